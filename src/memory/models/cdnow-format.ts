// Parser for the raw CDNOW transaction format (Fader & Hardie's CDNOW sample): one
// transaction per line, whitespace-separated master customer id, sample customer id,
// date YYYYMMDD, number of CDs, dollars. Customers are identified by the sample id without
// leading zeros, which is the ID of the published calibration summaries.

import type { PurchaseEvent } from './rfm-summary.js';
import { dayNumberFromIsoDate } from './time-unit.js';

export interface CdnowEvent extends PurchaseEvent {
  at: number;
  masterId: string;
  quantity: number;
}

/** Parses the whole file text; blank lines are skipped, malformed lines throw with their line number. */
export function parseCdnowTransactions(text: string): CdnowEvent[] {
  const events: CdnowEvent[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') return;
    const [masterId, sampleId, date, quantity, dollars] = fields;
    if (fields.length !== 5 || masterId === undefined || sampleId === undefined || date === undefined) {
      throw new RangeError(`CDNOW line ${i + 1}: expected 5 fields, got ${fields.length}`);
    }
    const amount = Number(dollars);
    const cds = Number(quantity);
    if (!/^\d+$/.test(sampleId) || !Number.isFinite(amount) || !Number.isFinite(cds)) {
      throw new RangeError(`CDNOW line ${i + 1}: malformed fields`);
    }
    let day: number;
    try {
      day = dayNumberFromIsoDate(date);
    } catch {
      throw new RangeError(`CDNOW line ${i + 1}: bad date "${date}"`);
    }
    events.push({ customerId: String(Number(sampleId)), masterId, at: day, amount, quantity: cds });
  });
  return events;
}
