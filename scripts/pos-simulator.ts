// npm run pos-simulator -- [--port-square N] [--port-lightspeed N] [--seed S] [--customers N] [--days N] [--end-at ISO]
// Runs the built-in POS simulator standalone on 127.0.0.1 and prints the Square and Lightspeed
// URLs and (simulated, throwaway) credentials; Ctrl-C stops it.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startPosSimulator } from '../src/pos-simulator/pos-simulator.js';

const { values } = parseArgs({
  options: {
    'port-square': { type: 'string', default: '0' },
    'port-lightspeed': { type: 'string', default: '0' },
    seed: { type: 'string' },
    customers: { type: 'string', default: '40' },
    days: { type: 'string', default: '90' },
    'end-at': { type: 'string' },
  },
});
const port = z.coerce.number().int().min(0).max(65535);
const args = z
  .object({
    'port-square': port,
    'port-lightspeed': port,
    seed: z.string().min(1).optional(),
    customers: z.coerce.number().int().min(0).max(2000),
    days: z.coerce.number().int().min(1).max(3650),
    'end-at': z.iso.datetime({ offset: true }).optional(),
  })
  .safeParse(values);
if (!args.success) {
  console.error(args.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
  console.error('usage: npm run pos-simulator -- [--port-square N] [--port-lightspeed N] [--seed S] [--customers N] [--days N] [--end-at ISO]');
  process.exit(1);
}
const a = args.data;
const sim = await startPosSimulator({
  ...(a.seed !== undefined ? { seed: a.seed } : {}),
  customers: a.customers,
  days: a.days,
  ...(a['end-at'] !== undefined ? { endAt: a['end-at'] } : {}),
  square: { port: a['port-square'] },
  lightspeed: { port: a['port-lightspeed'] },
});
const d = sim.dataset;
console.log(`POS simulator (seed "${d.seed}", ${new Date(d.startAt).toISOString()} → ${new Date(d.endAt).toISOString()})`);
console.log('');
console.log('Square (stands in for https://connect.squareup.com)');
console.log(`  url           ${sim.square.url}          e.g. GET ${sim.square.url}/v2/locations`);
console.log(`  token         ${sim.square.token}`);
console.log(`  locations     ${sim.square.locationIds.join(', ')} (main: ${sim.square.mainLocationId})`);
console.log(`  data          ${d.square.customers.length} customers, ${d.square.payments.length} payments, ${d.square.refunds.length} refunds, ${d.square.catalog.length} catalog objects`);
console.log('');
console.log('Lightspeed Retail R-Series (stands in for https://api.lightspeedapp.com)');
console.log(`  url           ${sim.lightspeed.url}          e.g. GET ${sim.lightspeed.apiUrl}/Account/${sim.lightspeed.accountId}/Sale.json`);
console.log(`  token url     ${sim.lightspeed.tokenUrl}`);
console.log(`  account id    ${sim.lightspeed.accountId}`);
console.log(`  client id     ${sim.lightspeed.clientId}`);
console.log(`  client secret ${sim.lightspeed.clientSecret}`);
console.log(`  refresh token ${sim.lightspeed.refreshToken}   (rotates on every refresh)`);
console.log(`  data          ${d.lightspeed.customers.length} customers, ${d.lightspeed.sales.length} sales, ${d.lightspeed.items.length} items`);
console.log('');
console.log(`${d.people.filter((p) => p.presence === 'both').length} of ${d.people.length} people are customers in both systems. Ctrl-C to stop.`);

const stop = () => {
  void sim.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
