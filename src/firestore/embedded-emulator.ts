// The in-process Firestore emulator (@firestore-emulator/server) used when no Firestore is
// configured. It keeps its state in memory only: at start the service re-projects from PostgreSQL.
import net from 'node:net';
import { FirestoreServer } from '@firestore-emulator/server';

export interface EmbeddedEmulator {
  host: string;
  stop(): void;
}

export async function startEmbeddedEmulator(port = 0): Promise<EmbeddedEmulator> {
  const chosen = port || (await findFreePort());
  const server = new FirestoreServer();
  await server.start(chosen);
  return { host: `127.0.0.1:${chosen}`, stop: () => server.stop() };
}

// The emulator binds the port it is given and does not report one it picked itself.
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
