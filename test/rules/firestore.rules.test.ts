// Firestore security rules tests (firestore.rules) for the admin UI's read-only view.
//
// Why skipped by default: security rules are evaluated only by Google's Firestore emulator
// (a Java program the Firebase CLI downloads), which cannot be downloaded on the development
// and CI machines here; the in-process emulator the rest of the tests use does not evaluate
// rules at all. So this whole suite runs only when FIRESTORE_EMULATOR_HOST points at Google's
// emulator, and is reported as skipped otherwise (test/unit/firestore-contract.test.ts says
// so in every `npm test` run, and checks the rules statically).
//
// How to run it, on a machine with the Firebase CLI and Java:
//   firebase emulators:exec --only firestore "npm run test:rules"
// (firebase.json starts the emulator on 127.0.0.1:8080 and emulators:exec sets
// FIRESTORE_EMULATOR_HOST for the command), or against an emulator you started yourself:
//   FIRESTORE_EMULATOR_HOST=127.0.0.1:8080 npm run test:rules
import { readFileSync } from 'node:fs';
import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
  type RulesTestContext,
  type RulesTestEnvironment,
} from '@firebase/rules-unit-testing';
import {
  addDoc,
  collection,
  deleteDoc,
  doc,
  getDoc,
  getDocs,
  orderBy,
  query,
  setDoc,
  Timestamp,
  updateDoc,
  where,
  type Firestore,
} from 'firebase/firestore';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const EMULATOR_HOST = process.env.FIRESTORE_EMULATOR_HOST;

// A demo- project id never reaches a real Firebase project.
const PROJECT_ID = 'demo-customer360-rules';

const BUSINESS_A = '0b6f1c1e-6c7a-4d1b-9f5e-0000000000a1';
const BUSINESS_B = '0b6f1c1e-6c7a-4d1b-9f5e-0000000000b2';

const CUSTOMER_A = 'customer-a'; // belongs to business A only
const CUSTOMER_B = 'customer-b'; // belongs to business B only
const CUSTOMER_AB = 'customer-ab'; // belongs to both

const ROLES = ['admin', 'staff', 'analyst', 'service'] as const;
type Role = (typeof ROLES)[number];
const PII_ROLES: readonly Role[] = ['admin', 'staff'];
const NON_PII_ROLES: readonly Role[] = ['analyst', 'service'];

/** The PII document and one document of each PII subcollection, relative to customers/{id}. */
const PII_PATHS = ['private/pii', 'addresses/addr-1', 'ipAddresses/ip-1', 'activities/act-1'] as const;
const SUBCOLLECTIONS = ['addresses', 'ipAddresses', 'activities'] as const;

function emulatorHostAndPort(value: string): { host: string; port: number } {
  const url = new URL(`http://${value}`);
  const port = Number(url.port);
  if (!url.hostname || !Number.isInteger(port) || port <= 0) {
    throw new Error(`FIRESTORE_EMULATOR_HOST must be host:port, got "${value}"`);
  }
  // new URL keeps IPv6 brackets in hostname ("[::1]"); the emulator client wants them off.
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

// RulesTestContext.firestore() is typed as the compat SDK's Firestore; the modular functions
// accept it (they unwrap compat instances), only the declared types differ.
function db(ctx: RulesTestContext): Firestore {
  return ctx.firestore() as unknown as Firestore;
}

function customerDoc(id: string, businessIds: string[], updatedAt: Date) {
  const at = Timestamp.fromDate(updatedAt);
  return {
    id,
    businessIds,
    status: 'active',
    customerType: 'individual',
    tags: ['regular'],
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
    lastActiveAt: at,
    sources: { square: { id: `sq-${id}` } },
    metrics: { totalSpent: 120.5, totalOrders: 3, lastOrderDate: at, churnProbability: 0.2, lifetimeValue: 300 },
    risk: { level: 'low', overallScore: 10 },
    engagement: { loyalty: { tier: 'gold' } },
    version: 1,
    _sync: { version: 1, hash: 'h', syncedAt: at },
  };
}

async function seed(env: RulesTestEnvironment): Promise<void> {
  await env.withSecurityRulesDisabled(async (ctx) => {
    const store = db(ctx);
    const customers: [string, string[]][] = [
      [CUSTOMER_A, [BUSINESS_A]],
      [CUSTOMER_B, [BUSINESS_B]],
      [CUSTOMER_AB, [BUSINESS_A, BUSINESS_B]],
    ];
    let minute = 0;
    for (const [id, businessIds] of customers) {
      minute += 1;
      await setDoc(doc(store, 'customers', id), customerDoc(id, businessIds, new Date(Date.UTC(2026, 0, 1, 0, minute))));
      await setDoc(doc(store, 'customers', id, 'private', 'pii'), {
        customerId: id,
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: `${id}@example.com`,
        phone: '+15555550100',
        dateOfBirth: '1990-01-01',
        notes: 'prefers email',
      });
      await setDoc(doc(store, 'customers', id, 'addresses', 'addr-1'), { line1: '1 Main St', city: 'Springfield' });
      await setDoc(doc(store, 'customers', id, 'ipAddresses', 'ip-1'), { ip: '203.0.113.7' });
      await setDoc(doc(store, 'customers', id, 'activities', 'act-1'), {
        type: 'purchase',
        occurredAt: Timestamp.fromDate(new Date(Date.UTC(2026, 0, 2))),
      });
    }
    // Sync bookkeeping the projector keeps in Firestore (syncState/{customerId}): no client may read it.
    await setDoc(doc(store, 'syncState', CUSTOMER_A), { version: 1, hash: 'h' });
  });
}

describe.skipIf(!EMULATOR_HOST)('firestore.rules (Google Firestore emulator)', () => {
  let env: RulesTestEnvironment;

  /** A signed-in admin UI user with the given role and tenants. */
  const user = (role: Role, businessIds: string[] = [BUSINESS_A]): Firestore =>
    db(env.authenticatedContext(`${role}-${businessIds.join('+')}`, { role, businessIds }));
  const anonymous = (): Firestore => db(env.unauthenticatedContext());

  beforeAll(async () => {
    const { host, port } = emulatorHostAndPort(EMULATOR_HOST ?? '');
    try {
      env = await initializeTestEnvironment({
        projectId: PROJECT_ID,
        firestore: { rules: readFileSync(new URL('../../firestore.rules', import.meta.url), 'utf8'), host, port },
      });
    } catch (cause) {
      // E.g. FIRESTORE_EMULATOR_HOST points at the service's in-process emulator (gRPC only,
      // no rules): loading the rules through the emulator's REST API fails.
      throw new Error(
        `Could not load firestore.rules into the emulator at ${host}:${port}; it must be Google's Firestore emulator`,
        { cause },
      );
    }
  });

  beforeEach(async () => {
    await env.clearFirestore();
    await seed(env);
  });

  afterAll(async () => {
    await env?.cleanup();
  });

  describe('customers/{id} (list view, no PII)', () => {
    it.each(ROLES)('%s of the tenant can read the customer', async (role) => {
      await assertSucceeds(getDoc(doc(user(role), 'customers', CUSTOMER_A)));
    });

    it('a customer of several businesses is readable by each of them', async () => {
      await assertSucceeds(getDoc(doc(user('analyst', [BUSINESS_A]), 'customers', CUSTOMER_AB)));
      await assertSucceeds(getDoc(doc(user('analyst', [BUSINESS_B]), 'customers', CUSTOMER_AB)));
    });

    it.each(ROLES)('%s of another business cannot read the customer', async (role) => {
      await assertFails(getDoc(doc(user(role, [BUSINESS_B]), 'customers', CUSTOMER_A)));
    });

    it('an unauthenticated client cannot read a customer', async () => {
      await assertFails(getDoc(doc(anonymous(), 'customers', CUSTOMER_A)));
    });

    it('a signed-in user without tenant claims cannot read a customer', async () => {
      const noClaims = db(env.authenticatedContext('no-claims'));
      await assertFails(getDoc(doc(noClaims, 'customers', CUSTOMER_A)));
      const emptyTenants = db(env.authenticatedContext('empty', { role: 'admin', businessIds: [] }));
      await assertFails(getDoc(doc(emptyTenants, 'customers', CUSTOMER_A)));
    });

    it('a missing customer of no tenant is not readable', async () => {
      await assertFails(getDoc(doc(user('admin'), 'customers', 'no-such-customer')));
    });
  });

  describe('queries on customers (rules are not filters)', () => {
    it('a query filtered on the user\'s own business is allowed and returns only its customers', async () => {
      const snapshot = await assertSucceeds(
        getDocs(
          query(
            collection(user('analyst'), 'customers'),
            where('businessIds', 'array-contains', BUSINESS_A),
            orderBy('updatedAt', 'desc'),
          ),
        ),
      );
      expect(snapshot.docs.map((d) => d.id).sort()).toEqual([CUSTOMER_A, CUSTOMER_AB].sort());
    });

    it('a query with the tenant filter and an equality filter is allowed', async () => {
      await assertSucceeds(
        getDocs(
          query(
            collection(user('staff'), 'customers'),
            where('businessIds', 'array-contains', BUSINESS_A),
            where('status', '==', 'active'),
            orderBy('updatedAt', 'desc'),
          ),
        ),
      );
    });

    it('a query without the tenant filter is denied', async () => {
      await assertFails(getDocs(collection(user('admin'), 'customers')));
      await assertFails(
        getDocs(query(collection(user('admin'), 'customers'), where('status', '==', 'active'), orderBy('updatedAt', 'desc'))),
      );
    });

    it('a query filtered on another business is denied', async () => {
      await assertFails(
        getDocs(query(collection(user('admin', [BUSINESS_A]), 'customers'), where('businessIds', 'array-contains', BUSINESS_B))),
      );
    });

    it('an unauthenticated query is denied', async () => {
      await assertFails(
        getDocs(query(collection(anonymous(), 'customers'), where('businessIds', 'array-contains', BUSINESS_A))),
      );
    });
  });

  describe('PII: customers/{id}/private/pii and the addresses, ipAddresses, activities subcollections', () => {
    for (const path of PII_PATHS) {
      it.each(PII_ROLES)(`%s of the tenant can read ${path}`, async (role) => {
        await assertSucceeds(getDoc(doc(user(role), `customers/${CUSTOMER_A}/${path}`)));
      });

      it.each(NON_PII_ROLES)(`%s of the tenant cannot read ${path}`, async (role) => {
        await assertFails(getDoc(doc(user(role), `customers/${CUSTOMER_A}/${path}`)));
      });

      it.each(ROLES)(`%s of another business cannot read ${path}`, async (role) => {
        await assertFails(getDoc(doc(user(role, [BUSINESS_B]), `customers/${CUSTOMER_A}/${path}`)));
      });

      it(`an unauthenticated client cannot read ${path}`, async () => {
        await assertFails(getDoc(doc(anonymous(), `customers/${CUSTOMER_A}/${path}`)));
      });
    }

    for (const sub of SUBCOLLECTIONS) {
      it(`staff of the tenant can list ${sub}; analysts and other tenants cannot`, async () => {
        await assertSucceeds(getDocs(collection(user('staff'), 'customers', CUSTOMER_A, sub)));
        await assertFails(getDocs(collection(user('analyst'), 'customers', CUSTOMER_A, sub)));
        await assertFails(getDocs(collection(user('staff', [BUSINESS_B]), 'customers', CUSTOMER_A, sub)));
      });
    }

    it('the activities timeline query (orderBy occurredAt desc) is allowed for admin of the tenant', async () => {
      const snapshot = await assertSucceeds(
        getDocs(query(collection(user('admin'), 'customers', CUSTOMER_A, 'activities'), orderBy('occurredAt', 'desc'))),
      );
      expect(snapshot.size).toBe(1);
    });

    it('other documents under private/ are not readable, even by admin', async () => {
      await assertFails(getDoc(doc(user('admin'), 'customers', CUSTOMER_A, 'private', 'other')));
    });
  });

  describe('no client writes, even for admin', () => {
    const admin = (): Firestore => user('admin', [BUSINESS_A, BUSINESS_B]);
    const writablePaths = [
      `customers/${CUSTOMER_A}`,
      ...PII_PATHS.map((p) => `customers/${CUSTOMER_A}/${p}`),
    ];

    for (const path of writablePaths) {
      it(`set (overwrite) on ${path} is denied`, async () => {
        await assertFails(setDoc(doc(admin(), path), { businessIds: [BUSINESS_A], status: 'vip' }));
      });

      it(`set with merge on ${path} is denied`, async () => {
        await assertFails(setDoc(doc(admin(), path), { status: 'vip' }, { merge: true }));
      });

      it(`update on ${path} is denied`, async () => {
        await assertFails(updateDoc(doc(admin(), path), { status: 'vip' }));
      });

      it(`delete on ${path} is denied`, async () => {
        await assertFails(deleteDoc(doc(admin(), path)));
      });
    }

    it('creating a customer is denied', async () => {
      await assertFails(setDoc(doc(admin(), 'customers', 'new-customer'), customerDoc('new-customer', [BUSINESS_A], new Date())));
      await assertFails(addDoc(collection(admin(), 'customers'), customerDoc('auto-id', [BUSINESS_A], new Date())));
    });

    it('creating the PII document of a new customer is denied', async () => {
      await assertFails(setDoc(doc(admin(), 'customers', 'new-customer', 'private', 'pii'), { firstName: 'Eve' }));
    });

    for (const sub of SUBCOLLECTIONS) {
      it(`creating a document in ${sub} is denied`, async () => {
        await assertFails(addDoc(collection(admin(), 'customers', CUSTOMER_A, sub), { createdBy: 'client' }));
        await assertFails(setDoc(doc(admin(), 'customers', CUSTOMER_A, sub, 'new'), { createdBy: 'client' }));
      });
    }

    it('writing a new top-level collection is denied', async () => {
      await assertFails(setDoc(doc(admin(), 'anything', 'doc'), { x: 1 }));
      await assertFails(addDoc(collection(admin(), 'anything'), { x: 1 }));
    });

    it.each(ROLES)('%s cannot write the customer either', async (role) => {
      await assertFails(updateDoc(doc(user(role), 'customers', CUSTOMER_A), { status: 'blocked' }));
    });

    it('unauthenticated writes are denied', async () => {
      await assertFails(setDoc(doc(anonymous(), 'customers', CUSTOMER_A), { status: 'vip' }));
    });
  });

  describe('everything else is denied', () => {
    it('sync bookkeeping is neither readable nor writable, even by admin', async () => {
      await assertFails(getDoc(doc(user('admin'), 'syncState', CUSTOMER_A)));
      await assertFails(getDocs(collection(user('admin'), 'syncState')));
      await assertFails(setDoc(doc(user('admin'), 'syncState', CUSTOMER_A), { version: 2 }));
    });

    it('an unknown collection is not readable', async () => {
      await assertFails(getDoc(doc(user('admin'), 'anything', 'doc')));
    });
  });
});
