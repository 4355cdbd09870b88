// The bench's closed-loop clients in a process of their own, so the service under test has its
// event loop to itself, as it has in production where the callers are other machines. The two
// processes still share this machine's cores (and PostgreSQL's): latencies include that.
//
// The bench starts `LoadClients` with the service's URL and token and hands it a list of
// requests at a time; the child runs `concurrency` clients over them (each takes the next item
// until none is left) and returns every reply's status, time and row count, and its own CPU.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { at, LoopbackClient } from './bench-kit.js';

export interface LoadItem {
  path: string;
  kind: string;
}

export interface LoadReply {
  kind: string;
  /** HTTP status, or 0 when no answer came. */
  status: number;
  ms: number;
  /** Rows in `data` when hits were counted and the reply was 2xx. */
  hits?: number;
  /** The start of a failed reply's body, or the client's error. */
  error?: string;
}

interface Setup {
  baseUrl: string;
  authorization: string;
  concurrency: number;
}

interface Job {
  items: LoadItem[];
  countHits: boolean;
}

interface Done {
  replies: LoadReply[];
  elapsedMs: number;
  /** The clients' process: CPU milliseconds spent over the run. */
  clientCpuMs: number;
}

export class LoadClients {
  private readonly child: ChildProcess;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(setup: Setup) {
    this.child = fork(fileURLToPath(import.meta.url), [JSON.stringify(setup)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  }

  /** Runs the items through the clients; one run at a time. */
  run(items: LoadItem[], countHits: boolean): Promise<Done> {
    const next = this.queue.then(
      () =>
        new Promise<Done>((resolve, reject) => {
          const onExit = (code: number | null) => reject(new Error(`the load clients exited (${code})`));
          this.child.once('exit', onExit);
          this.child.once('message', (done) => {
            this.child.off('exit', onExit);
            resolve(done as Done);
          });
          this.child.send({ items, countHits } satisfies Job);
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.child.kill();
  }
}

async function runJob(client: LoopbackClient, concurrency: number, job: Job): Promise<Done> {
  const replies: LoadReply[] = [];
  let next = 0;
  const caller = async () => {
    for (;;) {
      const item = job.items[next++];
      if (!item) return;
      try {
        const reply = await client.request('GET', item.path);
        const ok = reply.status >= 200 && reply.status <= 299;
        const data = ok && job.countHits ? at(JSON.parse(reply.text) as unknown, 'data') : undefined;
        replies.push({
          kind: item.kind,
          status: reply.status,
          ms: reply.ms,
          hits: job.countHits && ok ? (Array.isArray(data) ? data.length : 0) : undefined,
          error: ok ? undefined : `HTTP ${reply.status} ${reply.text.slice(0, 300)}`,
        });
      } catch (err) {
        replies.push({ kind: item.kind, status: 0, ms: NaN, error: (err as Error).message });
      }
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, job.items.length) }, caller));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { replies, elapsedMs, clientCpuMs: (cpu.user + cpu.system) / 1000 };
}

// The child: started by LoadClients with its setup as the one argument.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const setup = JSON.parse(process.argv[2] ?? '{}') as Setup;
  const client = new LoopbackClient(setup.concurrency);
  client.baseUrl = setup.baseUrl;
  client.authorization = setup.authorization;
  process.on('message', (job: Job) => {
    void runJob(client, setup.concurrency, job).then((done) => process.send?.(done));
  });
  process.on('disconnect', () => process.exit(0));
}
