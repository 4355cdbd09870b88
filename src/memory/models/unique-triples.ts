// Deduplication of (x, t_x, T) triples. Customers with the same triple contribute the same
// BG/NBD likelihood term, so fitting and scoring work on unique triples with weights; each
// component is also indexed by its distinct values, so per-evaluation logarithms and gamma
// functions are computed once per distinct x, t_x or T rather than once per customer.

export interface UniqueTriples {
  /** Number of unique triples. */
  size: number;
  /** Per unique triple: indices into xValues / txValues / TValues, and summed weight. */
  xIndex: Uint32Array;
  txIndex: Uint32Array;
  TIndex: Uint32Array;
  weight: Float64Array;
  xValues: Float64Array;
  txValues: Float64Array;
  TValues: Float64Array;
  /** Summed weight of the triples with each distinct x. */
  weightByX: Float64Array;
  totalWeight: number;
  /** For each input customer, the index of its unique triple. */
  tripleOfCustomer: Uint32Array;
}

export interface TripleInput {
  x: ArrayLike<number>;
  tx: ArrayLike<number>;
  T: ArrayLike<number>;
}

function indexValues(values: Float64Array): { index: Uint32Array; distinct: Float64Array } {
  const map = new Map<number, number>();
  const distinct: number[] = [];
  const index = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    let k = map.get(v);
    if (k === undefined) {
      k = distinct.length;
      map.set(v, k);
      distinct.push(v);
    }
    index[i] = k;
  }
  return { index, distinct: Float64Array.from(distinct) };
}

/**
 * Validates and deduplicates customer triples. Throws RangeError on invalid input:
 * x must be a non-negative integer and 0 ≤ t_x ≤ T, all finite. t_x is taken as 0 when x = 0.
 */
export function uniqueTriples(input: TripleInput, weights?: ArrayLike<number>): UniqueTriples {
  const n = input.x.length;
  if (input.tx.length !== n || input.T.length !== n || (weights !== undefined && weights.length !== n)) {
    throw new RangeError('x, tx, T (and weights) must have the same length');
  }
  const xs = new Float64Array(n);
  const txs = new Float64Array(n);
  const Ts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = input.x[i] ?? Number.NaN;
    const tx = input.tx[i] ?? Number.NaN;
    const T = input.T[i] ?? Number.NaN;
    if (!(Number.isInteger(x) && x >= 0 && Number.isFinite(T) && tx >= 0 && tx <= T)) {
      throw new RangeError(`invalid customer summary at ${i}: x=${x}, tx=${tx}, T=${T}`);
    }
    const w = weights?.[i] ?? 1;
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`invalid weight at ${i}: ${w}`);
    xs[i] = x;
    txs[i] = x === 0 ? 0 : tx;
    Ts[i] = T;
  }
  const xi = indexValues(xs);
  const ti = indexValues(txs);
  const Ti = indexValues(Ts);
  const nX = xi.distinct.length;
  const nTx = ti.distinct.length;
  const nT = Ti.distinct.length;
  const numericKeys = nX * nTx * nT < Number.MAX_SAFE_INTEGER;

  const map = new Map<number | string, number>();
  const tripleOfCustomer = new Uint32Array(n);
  const xIndex: number[] = [];
  const txIndex: number[] = [];
  const TIndex: number[] = [];
  const weight: number[] = [];
  let totalWeight = 0;
  for (let i = 0; i < n; i++) {
    const a = xi.index[i] ?? 0;
    const b = ti.index[i] ?? 0;
    const c = Ti.index[i] ?? 0;
    const key = numericKeys ? (a * nTx + b) * nT + c : `${a},${b},${c}`;
    let k = map.get(key);
    const w = weights?.[i] ?? 1;
    if (k === undefined) {
      k = xIndex.length;
      map.set(key, k);
      xIndex.push(a);
      txIndex.push(b);
      TIndex.push(c);
      weight.push(w);
    } else {
      weight[k] = (weight[k] ?? 0) + w;
    }
    tripleOfCustomer[i] = k;
    totalWeight += w;
  }
  const weightByX = new Float64Array(nX);
  weight.forEach((w, k) => {
    const a = xIndex[k] ?? 0;
    weightByX[a] = (weightByX[a] ?? 0) + w;
  });
  return {
    size: xIndex.length,
    xIndex: Uint32Array.from(xIndex),
    txIndex: Uint32Array.from(txIndex),
    TIndex: Uint32Array.from(TIndex),
    weight: Float64Array.from(weight),
    xValues: xi.distinct,
    txValues: ti.distinct,
    TValues: Ti.distinct,
    weightByX,
    totalWeight,
    tripleOfCustomer,
  };
}
