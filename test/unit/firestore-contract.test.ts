// The admin UI's Firestore contract, checked statically (no emulator needed):
// - firestore.rules lets no client write anything, guards the PII paths and scopes every read
//   by tenant;
// - every query in docs/admin-ui-queries.md that needs a composite index has exactly that
//   index in firestore.indexes.json, and the index file has nothing undocumented;
// - firebase.json points at both files.
// The rules' behaviour is tested for real in test/rules/firestore.rules.test.ts, which needs
// Google's Firestore emulator; the last test here says so when that suite cannot run.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const file = (relative: string): string => `${root}${relative}`;
const read = (relative: string): string => readFileSync(file(relative), 'utf8');

// ---- firestore.rules ---------------------------------------------------------------------

interface AllowStatement {
  methods: string[];
  condition: string | null;
  text: string;
}

/** The rules text without // and /* *\/ comments (rules have no strings containing those here). */
function stripComments(rules: string): string {
  return rules.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

/** Every `allow …;` statement, whitespace-normalized, possibly spanning lines. */
function allowStatements(rules: string): AllowStatement[] {
  const out: AllowStatement[] = [];
  for (const m of stripComments(rules).matchAll(/\ballow\s+([^:;]+?)\s*(?::\s*if\s+([^;]*))?;/g)) {
    const methods = (m[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const condition = m[2] === undefined ? null : m[2].replace(/\s+/g, ' ').trim();
    out.push({ methods, condition, text: m[0].replace(/\s+/g, ' ') });
  }
  return out;
}

const WRITE_METHODS = new Set(['write', 'create', 'update', 'delete']);
const READ_METHODS = new Set(['read', 'get', 'list']);

/** Allow statements that grant a client write: any write method with a condition other than `false`. */
function permissiveWrites(rules: string): string[] {
  return allowStatements(rules)
    .filter((s) => s.methods.some((m) => WRITE_METHODS.has(m)))
    .filter((s) => s.condition !== 'false')
    .map((s) => s.text);
}

/**
 * The `match` blocks of the rules as full paths, each with its allow statements, found by
 * tracking braces (functions are skipped: their bodies have no allow statements).
 */
function matchBlocks(rules: string): Map<string, AllowStatement[]> {
  const text = stripComments(rules);
  const blocks = new Map<string, AllowStatement[]>();
  const stack: { path: string | null }[] = [];
  const token = /\bmatch\s+(\S+)\s*\{|\{|\}|\ballow\s+[^;]*;/g;
  for (const m of text.matchAll(token)) {
    const current = [...stack].reverse().find((s) => s.path !== null)?.path ?? '';
    if (m[0] === '}') {
      stack.pop();
    } else if (m[0] === '{') {
      stack.push({ path: null });
    } else if (m[1] !== undefined) {
      const path = `${current}${m[1]}`;
      stack.push({ path });
      blocks.set(path, blocks.get(path) ?? []);
    } else {
      blocks.get(current)?.push(...allowStatements(m[0]));
    }
  }
  return blocks;
}

const DOCS = '/databases/{database}/documents';

describe('firestore.rules', () => {
  const rules = read('firestore.rules');

  it('uses rules_version 2 (recursive wildcards, collection groups)', () => {
    expect(stripComments(rules)).toMatch(/^\s*rules_version\s*=\s*'2'\s*;/);
  });

  it('has allow statements to check (the parser finds them)', () => {
    expect(allowStatements(rules).length).toBeGreaterThanOrEqual(6);
  });

  it('grants no client write anywhere: every allow write/create/update/delete is `if false`', () => {
    expect(permissiveWrites(rules)).toEqual([]);
  });

  it('the write check would catch a permissive write (self-test of the parser)', () => {
    expect(permissiveWrites("match /x/{id} {\n  allow read, write: if request.auth != null;\n}")).toHaveLength(1);
    expect(permissiveWrites('match /x/{id} {\n  allow create,\n    update: if\n      true;\n}')).toHaveLength(1);
    expect(permissiveWrites('match /x/{id} { allow delete; }')).toHaveLength(1);
    expect(permissiveWrites('match /x/{id} { allow write: if false; } // allow write: if true;')).toEqual([]);
  });

  it('guards the PII document and each PII subcollection', () => {
    const blocks = matchBlocks(rules);
    const customer = `${DOCS}/customers/{customerId}`;
    expect(rules).toContain('private/pii');
    for (const path of [
      `${customer}/private/pii`,
      `${customer}/addresses/{addressId}`,
      `${customer}/ipAddresses/{ipAddressId}`,
      `${customer}/activities/{activityId}`,
    ]) {
      const reads = (blocks.get(path) ?? []).filter((s) => s.methods.some((m) => READ_METHODS.has(m)));
      expect(reads, `read rule for ${path}`).toHaveLength(1);
      expect(reads[0]?.condition, path).toMatch(/^piiReadableFor\(customerId\)$/);
    }
    // The PII check: admin or staff only, and the tenant of the parent customer document.
    const pii = stripComments(rules).match(/function piiReadableFor\(customerId\)\s*\{([\s\S]*?)\}/)?.[1] ?? '';
    expect(pii).toContain('get(/databases/$(database)/documents/customers/$(customerId)).data.businessIds');
    const roles = stripComments(rules).match(/function mayReadPii\(\)\s*\{([\s\S]*?)\}/)?.[1] ?? '';
    expect(roles).toMatch(/request\.auth\.token\.role in \['admin', 'staff'\]/);
  });

  it('scopes the customer list view by tenant', () => {
    const reads = (matchBlocks(rules).get(`${DOCS}/customers/{customerId}`) ?? []).filter((s) =>
      s.methods.some((m) => READ_METHODS.has(m)),
    );
    expect(reads).toHaveLength(1);
    expect(reads[0]?.condition).toContain('resource.data.businessIds.hasAny(request.auth.token.businessIds)');
  });

  it('allows reads only on the customer paths; the catch-all denies everything', () => {
    const blocks = matchBlocks(rules);
    const allowedReadPaths = [...blocks]
      .filter(([, statements]) =>
        statements.some((s) => s.methods.some((m) => READ_METHODS.has(m)) && s.condition !== 'false'),
      )
      .map(([path]) => path.slice(DOCS.length))
      .sort();
    expect(allowedReadPaths).toEqual(
      [
        '/customers/{customerId}',
        '/customers/{customerId}/private/pii',
        '/customers/{customerId}/addresses/{addressId}',
        '/customers/{customerId}/ipAddresses/{ipAddressId}',
        '/customers/{customerId}/activities/{activityId}',
      ].sort(),
    );
    // No condition may be a bare sign-in check or `true`.
    for (const s of allowStatements(rules)) {
      expect(s.condition, s.text).not.toMatch(/^(true|request\.auth != null|signedIn\(\))$/);
    }
  });
});

// ---- docs/admin-ui-queries.md vs firestore.indexes.json --------------------------------------

interface IndexField {
  fieldPath: string;
  order?: 'ASCENDING' | 'DESCENDING';
  arrayConfig?: 'CONTAINS';
}

interface Index {
  collectionGroup: string;
  queryScope: 'COLLECTION' | 'COLLECTION_GROUP';
  fields: IndexField[];
}

interface IndexFile {
  indexes: Index[];
  fieldOverrides: { collectionGroup: string; fieldPath: string; indexes?: unknown[] }[];
}

interface DocumentedQuery {
  id: string;
  collectionGroup: string;
  compositeIndex: boolean;
  fields: IndexField[];
}

interface QuerySection {
  heading: string;
  js: string;
  spec: DocumentedQuery;
}

/** Splits the doc at `### (x)` headings; each section has one ```js and one ```json admin-ui-query block. */
function documentedQueries(markdown: string): QuerySection[] {
  const sections = markdown.split(/^### /m).slice(1);
  return sections.map((section) => {
    const heading = section.split('\n', 1)[0] ?? '';
    const js = [...section.matchAll(/^```js\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? '');
    const specs = [...section.matchAll(/^```json admin-ui-query\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? '');
    if (js.length !== 1 || specs.length !== 1) {
      throw new Error(`"${heading}" needs exactly one js block and one json admin-ui-query block`);
    }
    return { heading, js: js[0] ?? '', spec: JSON.parse(specs[0] ?? '') as DocumentedQuery };
  });
}

/**
 * The index a Firestore JS SDK query needs, derived from its text: the collection id (last
 * literal segment of collection(db, …)), array-contains and equality filters in order, then
 * the orderBy clauses.
 */
function indexFromJs(js: string): { collectionGroup: string; fields: IndexField[] } {
  const collectionArgs = js.match(/collection\(db,([^)]*)\)/)?.[1] ?? '';
  const segments = [...collectionArgs.matchAll(/'([^']+)'/g)].map((m) => m[1] ?? '');
  const fields: IndexField[] = [];
  for (const m of js.matchAll(/where\('([^']+)',\s*'([^']+)'/g)) {
    const [, fieldPath = '', op] = m;
    if (op === 'array-contains') fields.push({ fieldPath, arrayConfig: 'CONTAINS' });
    else if (op === '==') fields.push({ fieldPath, order: 'ASCENDING' });
    else throw new Error(`operator ${op} is not handled by this check; extend it`);
  }
  for (const m of js.matchAll(/orderBy\('([^']+)'(?:,\s*'(asc|desc)')?\)/g)) {
    fields.push({ fieldPath: m[1] ?? '', order: m[2] === 'desc' ? 'DESCENDING' : 'ASCENDING' });
  }
  return { collectionGroup: segments.at(-1) ?? '', fields };
}

const fieldKey = (f: IndexField): string => `${f.fieldPath}:${f.arrayConfig ?? f.order ?? '?'}`;
const indexKey = (collectionGroup: string, fields: IndexField[]): string =>
  `${collectionGroup}|${fields.map(fieldKey).join(',')}`;

describe('admin UI queries and firestore.indexes.json', () => {
  const queries = documentedQueries(read('docs/admin-ui-queries.md'));
  const indexFile = JSON.parse(read('firestore.indexes.json')) as IndexFile;

  it('the doc lists the admin UI queries (a)–(h)', () => {
    expect(queries.map((q) => q.spec.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  });

  it('each query\'s json block matches what its JS snippet needs', () => {
    for (const q of queries) {
      const derived = indexFromJs(q.js);
      expect(derived.fields.length, q.heading).toBeGreaterThan(0);
      expect({ collectionGroup: q.spec.collectionGroup, fields: q.spec.fields }, q.heading).toEqual(derived);
      // A composite index is needed as soon as a query involves more than one field; a query on
      // one field is served by Firestore's automatic single-field index.
      expect(q.spec.compositeIndex, q.heading).toBe(new Set(derived.fields.map((f) => f.fieldPath)).size > 1);
    }
  });

  it('every query on customers carries the tenant filter first (rules are not filters)', () => {
    for (const q of queries.filter((x) => x.spec.collectionGroup === 'customers')) {
      expect(q.js, q.heading).toMatch(/where\('businessIds',\s*'array-contains',/);
      expect(q.spec.fields[0], q.heading).toEqual({ fieldPath: 'businessIds', arrayConfig: 'CONTAINS' });
    }
  });

  it('the index file has the documented format', () => {
    expect(Array.isArray(indexFile.indexes)).toBe(true);
    expect(Array.isArray(indexFile.fieldOverrides)).toBe(true);
    for (const index of indexFile.indexes) {
      expect(index.queryScope).toBe('COLLECTION');
      expect(index.fields.length).toBeGreaterThan(1);
      for (const f of index.fields) {
        // Exactly one of order / arrayConfig per field.
        expect(Number(f.order !== undefined) + Number(f.arrayConfig !== undefined), JSON.stringify(f)).toBe(1);
        if (f.order !== undefined) expect(['ASCENDING', 'DESCENDING']).toContain(f.order);
        if (f.arrayConfig !== undefined) expect(f.arrayConfig).toBe('CONTAINS');
      }
    }
  });

  it('every query that needs a composite index has exactly that index', () => {
    const indexed = new Set(indexFile.indexes.map((i) => indexKey(i.collectionGroup, i.fields)));
    const missing = queries
      .filter((q) => q.spec.compositeIndex)
      .map((q) => indexKey(q.spec.collectionGroup, q.spec.fields))
      .filter((key) => !indexed.has(key));
    expect(missing).toEqual([]);
  });

  it('the index file has no undocumented or duplicate index', () => {
    const documented = new Set(
      queries.filter((q) => q.spec.compositeIndex).map((q) => indexKey(q.spec.collectionGroup, q.spec.fields)),
    );
    const keys = indexFile.indexes.map((i) => indexKey(i.collectionGroup, i.fields));
    expect(keys.filter((key) => !documented.has(key))).toEqual([]);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('no field override turns off the single-field index a query relies on', () => {
    for (const q of queries.filter((x) => !x.spec.compositeIndex)) {
      for (const f of q.spec.fields) {
        const override = indexFile.fieldOverrides.find(
          (o) => o.collectionGroup === q.spec.collectionGroup && o.fieldPath === f.fieldPath,
        );
        expect(override === undefined || (override.indexes?.length ?? 0) > 0, `${q.heading}: ${f.fieldPath}`).toBe(true);
      }
    }
  });
});

// ---- firebase.json and the rules test suite --------------------------------------------------

describe('firebase.json', () => {
  const config = JSON.parse(read('firebase.json')) as {
    firestore?: { rules?: string; indexes?: string };
    emulators?: { firestore?: { port?: number } };
  };

  it('references the rules and index files, and they exist', () => {
    expect(config.firestore?.rules).toBe('firestore.rules');
    expect(config.firestore?.indexes).toBe('firestore.indexes.json');
    expect(existsSync(file(config.firestore?.rules ?? 'missing'))).toBe(true);
    expect(existsSync(file(config.firestore?.indexes ?? 'missing'))).toBe(true);
  });

  it('runs the Firestore emulator on port 8080', () => {
    expect(config.emulators?.firestore?.port).toBe(8080);
  });
});

describe('Firestore security rules tests', () => {
  it('reports that the Firestore security rules tests were not run (needs Google\'s emulator)', () => {
    const suite = 'test/rules/firestore.rules.test.ts';
    expect(existsSync(file(suite))).toBe(true);
    expect(read(suite)).toMatch(/describe\.skipIf\(!EMULATOR_HOST\)/);
    if (!process.env.FIRESTORE_EMULATOR_HOST) {
      console.warn(
        "Firestore security rules tests NOT run: set FIRESTORE_EMULATOR_HOST to Google's emulator and run npm run test:rules",
      );
    }
  });
});
