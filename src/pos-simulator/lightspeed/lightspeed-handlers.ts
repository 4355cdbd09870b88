// Lightspeed R-Series list endpoints (Sale, Item, Customer, Shop under Account/{accountID}/):
// filter, sort, keyset-page, and answer `{ "@attributes": { next, previous }, Entity: … }` where
// `next`/`previous` are full URLs carrying the same query plus an opaque `after`/`before`, and
// "" when there is no such page. Reads see only what is visible now (eventual consistency).
import type { LightspeedCustomerRecord, LightspeedItemRecord, LightspeedSaleRecord, LightspeedShopRecord } from '../data/sim-model.js';
import type { FaultInjector } from '../faults.js';
import { boundOf, cachedView, pageAfterView, pageBeforeView, type KeysetSpec } from '../keyset-page.js';
import type { SimClock } from '../sim-clock.js';
import { boundToken, parseListQuery, type FieldTable } from './lightspeed-query.js';
import type { LightspeedStore } from './lightspeed-store.js';
import { corruptLightspeedRecord, customerToWire, itemToWire, listBody, saleToWire, shopToWire, type Json } from './lightspeed-wire.js';

export interface LightspeedHandlerContext {
  store: LightspeedStore;
  clock: SimClock;
  faults: FaultInjector;
}

interface EntityDef<T> {
  entity: 'Sale' | 'Item' | 'Customer' | 'Shop';
  idField: string;
  fields: FieldTable<T>;
  list(ctx: LightspeedHandlerContext, now: number): T[];
  id(record: T): number;
  toWire(ctx: LightspeedHandlerContext, record: T, relations: string[], now: number): Json;
}

const saleFields: FieldTable<LightspeedSaleRecord> = {
  saleID: { type: 'id', get: (s) => s.saleId },
  timeStamp: { type: 'time', get: (s) => s.updatedAt },
  createTime: { type: 'time', get: (s) => s.createdAt },
  updatetime: { type: 'time', get: (s) => s.updatedAt },
  completeTime: { type: 'time', get: (s) => s.completedAt },
  completed: { type: 'bool', get: (s) => s.completed },
  voided: { type: 'bool', get: (s) => s.voided },
  archived: { type: 'bool', get: (s) => s.archived },
  calcTotal: { type: 'number', get: (s) => s.totalCents / 100 },
  total: { type: 'number', get: (s) => s.totalCents / 100 },
  customerID: { type: 'id', get: (s) => s.customerId },
  shopID: { type: 'id', get: (s) => s.shopId },
  registerID: { type: 'id', get: (s) => s.registerId },
  employeeID: { type: 'id', get: (s) => s.employeeId },
};

const itemFields: FieldTable<LightspeedItemRecord> = {
  itemID: { type: 'id', get: (i) => i.itemId },
  systemSku: { type: 'string', get: (i) => i.systemSku },
  customSku: { type: 'string', get: (i) => i.customSku },
  upc: { type: 'string', get: (i) => i.upc },
  description: { type: 'string', get: (i) => i.description },
  defaultCost: { type: 'number', get: (i) => i.defaultCostCents / 100 },
  categoryID: { type: 'id', get: (i) => i.categoryId },
  archived: { type: 'bool', get: (i) => i.archived },
  createTime: { type: 'time', get: (i) => i.createdAt },
  timeStamp: { type: 'time', get: (i) => i.updatedAt },
};

const customerFields: FieldTable<LightspeedCustomerRecord> = {
  customerID: { type: 'id', get: (c) => c.customerId },
  firstName: { type: 'string', get: (c) => c.firstName },
  lastName: { type: 'string', get: (c) => c.lastName },
  archived: { type: 'bool', get: (c) => c.archived },
  createTime: { type: 'time', get: (c) => c.createdAt },
  timeStamp: { type: 'time', get: (c) => c.updatedAt },
};

const shopFields: FieldTable<LightspeedShopRecord> = {
  shopID: { type: 'id', get: (s) => s.shopId },
  name: { type: 'string', get: (s) => s.name },
  timeStamp: { type: 'time', get: (s) => s.updatedAt },
};

const has = (relations: string[], name: string) => relations.includes('all') || relations.includes(name);

export const SALE: EntityDef<LightspeedSaleRecord> = {
  entity: 'Sale',
  idField: 'saleID',
  fields: saleFields,
  list: (ctx, now) => ctx.store.sales.listVisible(now),
  id: (s) => s.saleId,
  toWire: (ctx, s, relations, now) =>
    saleToWire(s, {
      saleLines: has(relations, 'SaleLines') || has(relations, 'SaleLines.Item'),
      saleLineItems: has(relations, 'SaleLines.Item'),
      customer: has(relations, 'Customer'),
      item: (id) => ctx.store.items.visible(String(id), now),
      customerById: (id) => ctx.store.customers.visible(String(id), now),
    }),
};

export const ITEM: EntityDef<LightspeedItemRecord> = {
  entity: 'Item',
  idField: 'itemID',
  fields: itemFields,
  list: (ctx, now) => ctx.store.items.listVisible(now),
  id: (i) => i.itemId,
  toWire: (_ctx, i) => itemToWire(i),
};

export const CUSTOMER: EntityDef<LightspeedCustomerRecord> = {
  entity: 'Customer',
  idField: 'customerID',
  fields: customerFields,
  list: (ctx, now) => ctx.store.customers.listVisible(now),
  id: (c) => c.customerId,
  toWire: (_ctx, c) => customerToWire(c),
};

export const SHOP: EntityDef<LightspeedShopRecord> = {
  entity: 'Shop',
  idField: 'shopID',
  fields: shopFields,
  list: (ctx) => ctx.store.shops,
  id: (s) => s.shopId,
  toWire: (_ctx, s) => shopToWire(s),
};

/** Serves one list page. `requestUrl` is the absolute URL of the request, for the paging links. */
export function listEntity<T>(def: EntityDef<T>, ctx: LightspeedHandlerContext, requestUrl: URL): Json {
  const query = parseListQuery(requestUrl.searchParams, def.fields, def.idField);
  const now = ctx.clock.now();
  const all = def.list(ctx, now);
  if (query.limit === 0) return listBody(def.entity, [], { next: '', previous: '' });
  const sortSpec = def.fields[query.sortField];
  const spec: KeysetSpec<T> = {
    key: (r) => {
      const v = sortSpec?.get(r);
      return typeof v === 'boolean' ? Number(v) : (v ?? '');
    },
    id: (r) => def.id(r),
    descending: query.descending,
  };
  // The query without its page position and size names the ordered set being paged.
  const shape = [...requestUrl.searchParams].filter(([k]) => k !== 'after' && k !== 'before' && k !== 'limit').sort();
  const view = cachedView(all, `${def.entity}:${JSON.stringify(shape)}`, (r) => query.filters.every((f) => f(r)), spec);
  const page = query.before ? pageBeforeView(view, spec, query.limit, query.before) : pageAfterView(view, spec, query.limit, query.after);
  const link = (param: 'after' | 'before', record: T | undefined) => {
    if (!record) return '';
    const url = new URL(requestUrl);
    url.searchParams.delete('after');
    url.searchParams.delete('before');
    url.searchParams.set(param, boundToken(boundOf(spec, record)));
    return url.toString();
  };
  const first = page.rows[0];
  const last = page.rows[page.rows.length - 1];
  const bad = ctx.faults.malformedIds(def.entity, () => all.map((r) => String(def.id(r))).sort());
  const rows = page.rows.map((r) => {
    const wire = def.toWire(ctx, r, query.relations, now);
    return bad?.ids.has(String(def.id(r))) ? corruptLightspeedRecord(def.entity, wire, bad.kind) : wire;
  });
  return listBody(def.entity, rows, {
    next: page.hasAfter ? link('after', last) : '',
    previous: page.hasBefore ? link('before', first) : '',
  });
}
