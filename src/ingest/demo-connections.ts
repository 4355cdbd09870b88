// Demo mode: the built-in POS simulator on loopback, connected to the demo business as one
// Square and one Lightspeed connection, so `npm start` shows data flowing within a minute. The
// simulator listens on a new port at each start, so the connections are re-pointed every time.
import { startPosSimulator, type PosSimulator } from '../pos-simulator/pos-simulator.js';
import type { IngestService } from './ingest.service.js';

/** Small enough to ingest in seconds, large enough to look like a shop: six months of trade. */
const DEMO_DATASET = { seed: 'demo', customers: 300, days: 180, transactionsPerDay: 8 } as const;

export async function startDemoPos(ingest: IngestService, businessId: string): Promise<{ simulator: PosSimulator; connectionIds: string[] }> {
  const simulator = await startPosSimulator(DEMO_DATASET);
  try {
    const existing = await ingest.connections({ businessId });
    const square = { accessToken: simulator.square.token };
    const lightspeed = {
      clientId: simulator.lightspeed.clientId,
      clientSecret: simulator.lightspeed.clientSecret,
      refreshToken: simulator.lightspeed.refreshToken,
    };
    const ids: string[] = [];
    const squareConnection = existing.find((c) => c.provider === 'square');
    if (squareConnection) {
      await ingest.updateConnection(squareConnection.id, { apiUrl: simulator.square.url, credentials: square });
      ids.push(squareConnection.id);
    } else {
      const created = await ingest.createConnection({ businessId, provider: 'square', accountId: 'demo-square', apiUrl: simulator.square.url, credentials: square });
      ids.push(created.id);
    }
    const lightspeedConnection = existing.find((c) => c.provider === 'lightspeed');
    const target = { apiUrl: simulator.lightspeed.apiUrl, tokenUrl: simulator.lightspeed.tokenUrl, credentials: lightspeed };
    if (lightspeedConnection) {
      await ingest.updateConnection(lightspeedConnection.id, target);
      ids.push(lightspeedConnection.id);
    } else {
      const created = await ingest.createConnection({ businessId, provider: 'lightspeed', accountId: simulator.lightspeed.accountId, ...target });
      ids.push(created.id);
    }
    return { simulator, connectionIds: ids };
  } catch (err) {
    await simulator.close();
    throw err;
  }
}
