// The lower bounds of a profile GET on this machine, for bench:customers: Express alone, with none
// of the service's middleware, answering `GET /bare` with a small JSON body, and `GET
// /bare/customers/{id}` with that customer's row read by primary key (one prepared SELECT of the
// customers table, on a pool the size of the service's). A profile GET does all of this and more
// (authentication, rate limit, metrics, request log, the whole aggregate with its insights), so it
// cannot be faster than the second route under the same clients.
//
// The server runs in a child process of its own, so nothing of the bench or the idle service
// shares its event loop or heap: the most favourable conditions a route can have here.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import pg from 'pg';

export interface BareExpress {
  url: string;
  close(): void;
}

interface Setup {
  databaseUrl: string;
  poolMax: number;
}

/** Starts the bare server's process; resolves with its URL once it listens. */
export async function startBareExpress(setup: Setup): Promise<BareExpress> {
  const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(setup)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const [url] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`the bare Express server exited (${String(code)})`))),
  ])) as [string];
  return { url, close: () => child.kill() };
}

async function serve(setup: Setup): Promise<string> {
  const pool = new pg.Pool({ connectionString: setup.databaseUrl, max: setup.poolMax });
  const app = express();
  app.get('/bare', (_req, res) => {
    res.json({ success: true, data: { ok: true } });
  });
  app.get('/bare/customers/:id', async (req, res) => {
    const { rows } = await pool.query<Record<string, unknown>>({
      name: 'bare_customer_by_id',
      text: 'SELECT * FROM customers WHERE id = $1',
      values: [req.params.id],
    });
    if (rows.length === 0) res.status(404);
    res.json({ success: rows.length > 0, data: rows[0] ?? null });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// The child: started by startBareExpress with its setup as the one argument.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = await serve(JSON.parse(process.argv[2] ?? '{}') as Setup);
  process.send(url);
  process.on('disconnect', () => process.exit(0));
}
