// Lightspeed auth strategies against real servers: OAuth2 with rotating refresh tokens against the
// Lightspeed fake (the new refresh token is saved before its access token is used; expiry mid-run
// is survived; a second 401 or a dead refresh token fails clearly), and API-key Basic auth
// against a tiny local server (the fake has no API keys).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PosApiError } from '../../../src/ingest/http/pos-api-error.js';
import type { FetchLike } from '../../../src/ingest/http/pos-http.js';
import { LightspeedApiKeyAuth, LightspeedOAuth, type LightspeedOAuthOptions } from '../../../src/ingest/lightspeed/lightspeed.auth.js';
import { LightspeedClient } from '../../../src/ingest/lightspeed/lightspeed.client.js';
import { ManualClock } from '../../../src/pos-simulator/sim-clock.js';
import { startLightspeedFake, type LightspeedFake } from '../../fakes/lightspeed.fake.js';
import { collect, MemoryCredentialStore, recordingSleep } from './ingest-helpers.js';

/**
 * Passes every request to the real server, writing to `log` in order: `grant:<access>:<refresh>`
 * when the token endpoint answers, `api:<access>:<status>` for API calls.
 */
function recordingFetch(log: string[]): FetchLike {
  return async (input, init) => {
    const url = String(input);
    const res = await fetch(input, init);
    if (url.includes('/auth/oauth/token')) {
      const body = (await res.clone().json()) as { access_token?: string; refresh_token?: string };
      log.push(body.access_token ? `grant:${body.access_token}:${body.refresh_token}` : `grant-refused:${res.status}`);
    } else {
      const header = new Headers(init?.headers).get('authorization') ?? '';
      log.push(`api:${header.replace(/^Bearer /, '')}:${res.status}`);
    }
    return res;
  };
}

/** Every rotated refresh token was saved after it arrived and before its access token was first used. */
function expectSavedBeforeUse(log: string[]): number {
  const grants = log.flatMap((entry, at) => (entry.startsWith('grant:') ? [{ at, access: entry.split(':')[1]!, refresh: entry.split(':')[2]! }] : []));
  for (const grant of grants) {
    const savedAt = log.indexOf(`save:${grant.refresh}`);
    const firstUse = log.findIndex((e) => e.startsWith(`api:${grant.access}:`));
    expect(savedAt).toBeGreaterThan(grant.at);
    if (firstUse !== -1) expect(firstUse).toBeGreaterThan(savedAt);
  }
  return grants.length;
}

function setup(fake: LightspeedFake, opts: Partial<LightspeedOAuthOptions> & { log?: string[] } = {}) {
  const log = opts.log ?? [];
  const store = new MemoryCredentialStore(fake.control.mintRefreshToken(), log);
  const fetchFn = recordingFetch(log);
  const auth = new LightspeedOAuth({
    tokenUrl: fake.tokenUrl,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    store,
    fetch: fetchFn,
    ...opts,
  });
  const client = new LightspeedClient({ apiUrl: fake.apiUrl, accountId: fake.accountId, auth, fetch: fetchFn, ...(opts.retry ? { retry: opts.retry } : {}) });
  return { log, store, auth, client };
}

describe('LightspeedOAuth against the Lightspeed fake', () => {
  let fake: LightspeedFake;
  beforeAll(async () => {
    fake = await startLightspeedFake();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('rotates the refresh token on first use and saves it before calling the API', async () => {
    const { log, store, client } = setup(fake);
    const original = store.current;
    const { records } = await collect(client.pages('Item'));
    expect(records.length).toBe(fake.dataset.lightspeed.items.length);
    expect(store.current).not.toBe(original);
    expect(fake.control.validRefreshTokens()).toContain(store.current);
    expect(fake.control.validRefreshTokens()).not.toContain(original);
    expect(log[0]).toBe('load');
    expect(expectSavedBeforeUse(log)).toBe(1);
  });

  it('survives an access token expiring mid-run: one 401, one refresh with rotation, same records', async () => {
    const { log, store, client } = setup(fake);
    fake.control.setFaults({ expireTokenOnRequest: 3 });
    try {
      const { records } = await collect(client.pages('Sale', { limit: 20 }));
      const got = records.map((s) => (s as { saleID: string }).saleID);
      expect(new Set(got).size).toBe(got.length);
      expect(got.length).toBe(fake.control.store.sales.listLatest().length);
      expect(log.filter((e) => e.endsWith(':401'))).toHaveLength(1);
      expect(expectSavedBeforeUse(log)).toBe(2);
      expect(store.saves).toBe(2);
      // The request that got 401 is sent again with the new token, right after the save.
      const rejected = log.findIndex((e) => e.endsWith(':401'));
      expect(log.slice(rejected + 1, rejected + 5).map((e) => e.split(':')[0])).toEqual(['load', 'grant', 'save', 'api']);
      expect(fake.control.validRefreshTokens()).toContain(store.current);
    } finally {
      fake.control.clearFaults();
    }
  });

  it('shares one refresh among concurrent requests, so rotation does not kill a token in flight', async () => {
    const { log, auth } = setup(fake);
    const headers = await Promise.all([auth.authHeader(), auth.authHeader(), auth.authHeader()]);
    expect(new Set(headers).size).toBe(1);
    expect(log.filter((e) => e.startsWith('grant')).length).toBe(1);
    // Three requests rejected with the same token trigger one refresh between them.
    const rejected = headers[0] ?? '';
    await Promise.all([auth.handleUnauthorized(rejected), auth.handleUnauthorized(rejected), auth.handleUnauthorized(rejected)]);
    expect(log.filter((e) => e.startsWith('grant')).length).toBe(2);
  });

  it('fails with a clear, non-retryable error when the API still answers 401 after a refresh', async () => {
    // Tokens from another account's server are unknown here: the refresh works, the API refuses.
    const other = await startLightspeedFake({ seed: 'other-account' });
    try {
      const log: string[] = [];
      const store = new MemoryCredentialStore(other.control.mintRefreshToken(), log);
      const auth = new LightspeedOAuth({ tokenUrl: other.tokenUrl, clientId: other.clientId, clientSecret: other.clientSecret, store });
      const { sleep, delays } = recordingSleep();
      const client = new LightspeedClient({ apiUrl: fake.apiUrl, accountId: fake.accountId, auth, retry: { sleep } });
      fake.control.resetRequestStats();
      const err = await collect(client.pages('Sale')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PosApiError);
      expect(err).toMatchObject({ provider: 'lightspeed', status: 401, code: 'UnauthorizedException', retryable: false });
      expect((err as Error).message).toBe(
        "Lightspeed rejected the access token (401 UnauthorizedException) even after a token refresh: check the connection's credentials",
      );
      expect(fake.control.requestCounts().Sale).toBe(2);
      expect(other.control.requestCounts().token).toBe(2);
      expect(delays).toEqual([]);
      expect(JSON.stringify(err)).not.toContain(store.current);
    } finally {
      await other.close();
    }
  });

  it('reports a used or revoked refresh token as needing re-authorization, without retrying', async () => {
    const { sleep, delays } = recordingSleep();
    const { client, store } = setup(fake, { retry: { sleep } });
    const stale = store.current;
    // Spend our token behind the client's back, as another worker with the same token would.
    await fetch(fake.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: fake.clientId, client_secret: fake.clientSecret, refresh_token: stale }),
    });
    const err = await collect(client.pages('Item')).catch((e: unknown) => e);
    expect(err).toMatchObject({ provider: 'lightspeed', status: 400, code: 'invalid_grant', retryable: false });
    expect((err as Error).message).toMatch(/refused the refresh token \(400 invalid_grant\).*re-authorized/);
    expect((err as Error).message).not.toContain(stale);
    expect(delays).toEqual([]);
  });

  it('refuses wrong client credentials with a message naming them, not their values', async () => {
    const { client } = setup(fake, { clientSecret: 'definitely-wrong-secret' });
    const err = await collect(client.pages('Item')).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, code: 'invalid_client', retryable: false });
    expect((err as Error).message).toBe("Lightspeed refused the client credentials (401 invalid_client): check the connection's client id and secret");
  });

  it('never uses an access token whose refresh token could not be saved, and saves it on the next call', async () => {
    const { log, store, client } = setup(fake);
    store.failNextSave = true;
    const err = await collect(client.pages('Item')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CREDENTIAL_SAVE_FAILED', retryable: false });
    expect(log.some((e) => e.startsWith('api:'))).toBe(false);

    // The rotated token lives only in memory now; the next run saves it instead of spending the dead one.
    const { records } = await collect(client.pages('Item'));
    expect(records.length).toBe(fake.dataset.lightspeed.items.length);
    expect(log.filter((e) => e.startsWith('grant')).length).toBe(1);
    expect(fake.control.validRefreshTokens()).toContain(store.current);
    expectSavedBeforeUse(log);
  });

  it('keeps tokens and the client secret out of JSON and inspect output', async () => {
    const { auth, store } = setup(fake);
    const header = await auth.authHeader();
    const accessToken = header.replace(/^Bearer /, '');
    for (const text of [JSON.stringify(auth), inspect(auth, { depth: 10 }), JSON.stringify({ auth })]) {
      expect(text).not.toContain(accessToken);
      expect(text).not.toContain(store.current);
      expect(text).not.toContain(fake.clientSecret);
    }
  });
});

describe('LightspeedOAuth proactive refresh', () => {
  it('refreshes shortly before expires_in runs out, so the API never answers 401', async () => {
    const clock = new ManualClock('2026-05-02T12:00:00Z');
    const fake = await startLightspeedFake({ clock });
    try {
      const { log, client, store } = setup(fake, { retry: { now: () => clock.now() }, refreshMarginMs: 120_000 });
      let pages = 0;
      for await (const _page of client.pages('Sale', { limit: 25 })) {
        pages++;
        if (pages === 2) clock.advance(1700 * 1000); // 100 s before the 1800 s expiry: inside the margin
      }
      expect(pages).toBe(Math.ceil(fake.dataset.lightspeed.sales.length / 25));
      expect(log.filter((e) => e.endsWith(':401'))).toEqual([]);
      expect(expectSavedBeforeUse(log)).toBe(2);
      expect(store.saves).toBe(2);
      const accessTokens = new Set(log.filter((e) => e.startsWith('api:')).map((e) => e.split(':')[1]));
      expect(accessTokens.size).toBe(2);
    } finally {
      await fake.close();
    }
  });
});

describe('LightspeedApiKeyAuth', () => {
  const KEY = 'ls-api-key-0123456789';
  let server: Server;
  let apiUrl: string;
  beforeAll(async () => {
    // The fake speaks OAuth only; this stands in for an account that accepts API keys.
    const expected = `Basic ${Buffer.from(`${KEY}:apikey`).toString('base64')}`;
    server = createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-LS-API-Bucket-Level', '1/90');
      if (req.headers.authorization !== expected) {
        res.statusCode = 401;
        res.end(JSON.stringify({ httpCode: '401', httpMessage: 'Unauthorized', message: 'Invalid API key.', errorClass: 'UnauthorizedException' }));
        return;
      }
      res.end(JSON.stringify({ '@attributes': { next: '', previous: '' }, Item: { itemID: '1', description: 'Mug' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/API/V3`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the key as Basic auth', async () => {
    const client = new LightspeedClient({ apiUrl, accountId: '1', auth: new LightspeedApiKeyAuth(KEY) });
    const { records } = await collect(client.pages('Item'));
    expect(records).toEqual([{ itemID: '1', description: 'Mug' }]);
  });

  it('fails a 401 at once: there is nothing to refresh', async () => {
    const { sleep, delays } = recordingSleep();
    const auth = new LightspeedApiKeyAuth('wrong-key-0123456789');
    const client = new LightspeedClient({ apiUrl, accountId: '1', auth, retry: { sleep } });
    const err = await collect(client.pages('Item')).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, retryable: false });
    expect((err as Error).message).toBe("Lightspeed rejected the access token (401 UnauthorizedException): check the connection's credentials");
    expect(delays).toEqual([]);
    expect(JSON.stringify(auth) + inspect(auth)).not.toContain('wrong-key');
  });
});
