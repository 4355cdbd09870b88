// GET /api/v1/events: the business's domain events in feed order, for consumers that poll with
// `after` = meta.nextAfter of their last read. Events of transactions still running are held
// back with every later one (listDomainEvents), so a consumer never skips an event.
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../db/db.client.js';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { listDomainEvents } from './domain-events.repository.js';

const POSITION = /^(\d{1,20})\.(\d{1,18})$/;

export const listEventsQuery = z.strictObject({
  after: z
    .string()
    .regex(POSITION, 'must be a position this API returned as meta.nextAfter, or absent to read from the start')
    .transform((p) => {
      const [, txId, id] = POSITION.exec(p)!;
      return { txId: txId!, id: Number(id) };
    })
    .optional()
    .meta({ description: 'The position after which to read: meta.nextAfter of the previous read; absent = from the start' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const domainEventBody = z
  .object({
    id: z.number().int(),
    type: z.string(),
    customerId: z.uuid().nullable(),
    payload: z.looseObject({}),
    occurredAt: z.string(),
  })
  .meta({ id: 'DomainEvent' });

export function eventsRouter(db: Db): Router {
  const router = Router();
  router.get('/events', requirePermission('events:read'), async (req, res) => {
    const { after, limit } = parseInput(listEventsQuery, req.query, 'query');
    const rows = await listDomainEvents(db, principalOf(req).businessId, after ?? null, limit);
    const last = rows[rows.length - 1];
    res.json({
      success: true,
      data: rows.map((e) => ({ id: e.id, type: e.eventType, customerId: e.customerId, payload: e.payload, occurredAt: e.occurredAt })),
      meta: { nextAfter: last ? `${last.txId}.${last.id}` : after ? `${after.txId}.${after.id}` : null, limit },
    });
  });
  return router;
}
