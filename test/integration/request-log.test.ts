// Request logging: one line per request when it ends (status, duration, request id, business), the
// path without its query string (a search may carry a name or an email), health checks not logged,
// and errors logged with the same request id the caller sees.
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
const lines: Record<string, unknown>[] = [];
beforeAll(async () => {
  t = await createTestApp({ logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) });
});
afterAll(() => t.close());
beforeEach(() => {
  lines.length = 0;
});

/** The lines of one request, once its response has ended (the line is written on close). */
async function linesOf(requestId: string): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 50 && !lines.some((l) => l.requestId === requestId && typeof l.responseTime === 'number'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return lines.filter((l) => l.requestId === requestId);
}

describe('request log', () => {
  it('writes one line when a request ends: method, path without the query, status, duration, request id, business and role', async () => {
    const b = await t.newBusiness();
    const res = await request(t.app)
      .get('/api/v1/customers?q=jane.doe%40example.com&limit=5')
      .set({ Authorization: `Bearer ${b.token}`, 'x-request-id': 'trace-log-1' })
      .expect(200);
    expect(res.headers['x-request-id']).toBe('trace-log-1');
    const [line, ...more] = await linesOf('trace-log-1');
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      msg: 'request completed',
      module: 'http',
      requestId: 'trace-log-1',
      req: { method: 'GET', url: '/api/v1/customers' },
      res: { statusCode: 200 },
      businessId: b.id,
      role: 'admin',
    });
    expect(line!.responseTime).toEqual(expect.any(Number));
    expect(JSON.stringify(lines)).not.toMatch(/jane|example\.com|Bearer/i);
  });

  it('logs a refusal and its end under the id the caller gets back, a new id for an unusable one, and no health checks', async () => {
    const res = await request(t.app).get('/api/v1/customers').set('x-request-id', 'not a usable id').expect(401);
    const id = res.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.requestId).toBe(id);
    const logged = await linesOf(id);
    expect(logged.map((l) => [l.msg, (l.res as { statusCode?: number } | undefined)?.statusCode])).toEqual([
      ['request refused', undefined],
      ['request completed', 401],
    ]);
    expect(logged[0]).toMatchObject({ code: 'UNAUTHORIZED', req: { method: 'GET', url: '/api/v1/customers' } });

    await request(t.app).get('/healthz').expect(200);
    await request(t.app).get('/metrics').expect(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.filter((l) => ['/healthz', '/metrics'].includes((l.req as { url?: string } | undefined)?.url ?? ''))).toEqual([]);
  });
});
