// Firestore client factory (firebase-admin). Three modes: the embedded in-process emulator
// (default), an external emulator (FIRESTORE_EMULATOR_HOST), or Google with application
// default credentials (GOOGLE_APPLICATION_CREDENTIALS).
import { randomUUID } from 'node:crypto';
import { applicationDefault, deleteApp, initializeApp } from 'firebase-admin/app';
import { initializeFirestore, type Firestore } from 'firebase-admin/firestore';
import type { Config } from '../config.js';
import { startEmbeddedEmulator } from './embedded-emulator.js';

export interface FirestoreHandle {
  db: Firestore;
  describe: string;
  close(): Promise<void>;
}

export async function createFirestore(config: Config['firestore']): Promise<FirestoreHandle> {
  // Each handle gets its own app, so tests and tools can hold several at once.
  const appName = `customer360-${randomUUID()}`;
  if (config.kind === 'google') {
    const app = initializeApp({ credential: applicationDefault(), projectId: config.projectId }, appName);
    const db = initializeFirestore(app);
    db.settings({ ignoreUndefinedProperties: true });
    return { db, describe: `Google Firestore, project ${config.projectId}`, close: () => deleteApp(app) };
  }
  const embedded = config.kind === 'embedded' ? await startEmbeddedEmulator(config.port) : undefined;
  const host = embedded?.host ?? (config.kind === 'emulator' ? config.host : '');
  return connectToEmulator(host, config.projectId, appName, {
    describe: embedded ? `Firestore in-process emulator at ${host} (in memory)` : `Firestore emulator at ${host}`,
    onClose: () => embedded?.stop(),
  });
}

/** A client for an emulator at host:port (the embedded one, Google's, or a proxy in front of one). */
export function connectToEmulator(
  host: string,
  projectId: string,
  appName = `customer360-${randomUUID()}`,
  opts: { describe?: string; onClose?: () => void } = {},
): FirestoreHandle {
  const app = initializeApp({ projectId }, appName);
  const db = initializeFirestore(app);
  // Emulators accept the owner token; no Google credentials are looked up.
  db.settings({ host, ssl: false, customHeaders: { Authorization: 'Bearer owner' }, ignoreUndefinedProperties: true });
  return {
    db,
    describe: opts.describe ?? `Firestore emulator at ${host}`,
    close: async () => {
      await db.terminate().catch(() => undefined);
      await deleteApp(app).catch(() => undefined);
      opts.onClose?.();
    },
  };
}
