// /metrics (Prometheus text): HTTP latency by route pattern, outbox backlog and lag, projector throughput.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const metric = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

describe('/metrics', () => {
  it('reports the outbox backlog, projector throughput and HTTP latency by route pattern', async () => {
    const b = await t.newBusiness();
    const h = { Authorization: `Bearer ${b.token}` };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await request(t.app).post('/api/v1/customers').set(h).send(buildCustomer()).expect(201)).body.data.id);
    await request(t.app).get(`/api/v1/customers/${ids[0]}`).set(h).expect(200);

    const before = (await request(t.app).get('/metrics').expect(200)).text;
    expect(metric(before, 'sync_backlog_rows')).toBe(3);
    expect(metric(before, 'sync_lag_seconds')).toBeGreaterThan(0);
    expect(before).toContain('http_request_duration_seconds_count{method="GET",route="/api/v1/customers/:id",status="200"} 1');
    // Ids never become labels.
    expect(before).not.toContain(ids[0]);

    await t.projector.drain();
    const after = (await request(t.app).get('/metrics').expect(200)).text;
    expect(metric(after, 'sync_backlog_rows')).toBe(0);
    expect(metric(after, 'sync_lag_seconds')).toBe(0);
    expect(metric(after, 'sync_projected_customers_total')).toBe(3);
    expect(metric(after, 'sync_documents_written_total')).toBe(18);
  });
});
