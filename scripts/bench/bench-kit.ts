// What the benches share: argument checks, percentiles and rounding for the tables and the JSON
// line, reading nested values of a JSON body, and a keep-alive loopback HTTP client.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

export function positiveInt(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a positive integer, got ${value}`);
    process.exit(2);
  }
  return n;
}

/** Nearest-rank percentile; NaN when there are no values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (x: number, digits = 1) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/** Reads a nested value of a parsed JSON body (`meta.recalculation.changed`); undefined if absent. */
export function at(body: unknown, path: string): unknown {
  let v: unknown = body;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

export interface Reply {
  status: number;
  /** The body as text (JSON replies), or raw bytes when asked for. */
  text: string;
  bytes: number;
  ms: number;
}

/** A keep-alive HTTP client for a service on loopback, one socket per concurrent caller. */
export class LoopbackClient {
  readonly agent: http.Agent;
  baseUrl = '';
  authorization = '';

  constructor(concurrency: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  }

  request(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<Reply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = http.request(
        `${this.baseUrl}${path}`,
        {
          method,
          agent: this.agent,
          headers: {
            authorization: this.authorization,
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const all = Buffer.concat(chunks);
            const json = /json/.test(String(res.headers['content-type'] ?? ''));
            resolve({ status: res.statusCode ?? 0, text: json ? all.toString('utf8') : '', bytes: all.length, ms: performance.now() - t0 });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path.split('?')[0]} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * A database of the bench's own on the local PostgreSQL (BENCH_PG_ADMIN_URL overrides the admin
 * connection): created at the start, dropped at the end, on failure and on Ctrl-C.
 */
export function throwawayDatabase(prefix: string, run: string) {
  const adminUrl = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `${prefix}_${run}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const admin = async (text: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  return {
    name,
    url: url.toString(),
    create: () => admin(`CREATE DATABASE "${name}"`),
    drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
