import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { toField } from '../../receipt/field.js';
import type { Builder } from '../builder.js';
import { addScaled, addTerm, constLin, lin, ONE, wireLin, type Lin } from '../lin.js';

const require = createRequire(import.meta.url);

/** A field value and (in constraint mode) its linear combination. */
export interface FieldSignal {
  readonly value: bigint;
  readonly lin: Lin | null;
  /** Known without any wire (the initial state, padding): its S-box costs nothing. */
  readonly constant?: boolean;
}

interface Constants {
  readonly C: bigint[];
  readonly S: bigint[];
  readonly M: bigint[][];
  readonly P: bigint[][];
}

const N_ROUNDS_F = 8;
/** Partial rounds per width t = 2..17, as circomlib's Poseidon. */
const N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

let table: { C: string[][]; S: string[][]; M: string[][][]; P: string[][][] } | null = null;
const cache = new Map<number, Constants>();

/** circomlib's optimized Poseidon constants for width t (those circomlibjs hashes with). */
function constants(t: number): Constants {
  let c = cache.get(t);
  if (!c) {
    // The package exports no path to its constants: found beside its entry point.
    table ??= JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('circomlibjs')), '..', 'src', 'poseidon_constants_opt.json'), 'utf8'));
    const k = t - 2;
    const b = (s: string) => BigInt(s);
    c = { C: table!.C[k].map(b), S: table!.S[k].map(b), M: table!.M[k].map((r) => r.map(b)), P: table!.P[k].map((r) => r.map(b)) };
    cache.set(t, c);
  }
  return c;
}

const F = toField;

/** Poseidon's cost for n inputs: three products per S-box, 8 full rounds of t = n + 1 and the partial rounds. */
export const poseidonCost = (n: number, constants = 1): number => 3 * (N_ROUNDS_F * (n + 1) + N_ROUNDS_P[n - 1] - constants);

/**
 * Poseidon(n) over BN254 as circomlib's circuit and circomlibjs compute it
 * (width t = n + 1, initial state 0, the optimized partial rounds). Cost:
 * poseidonCost(n) = 3·(8t + partial rounds - 1) constraints, the x^5
 * S-boxes (x², x⁴, x⁵) but the first round's on the constant initial state
 * (and on constant padding inputs); round constants and the MDS mixes are
 * linear and fold into the next S-box. With `out`, the hash is that (public) wire: the last mix
 * defines the first S-box output instead, so the output costs nothing.
 */
export function poseidon(cs: Builder, inputs: readonly FieldSignal[], out?: number): FieldSignal {
  const t = inputs.length + 1;
  const nP = N_ROUNDS_P[t - 2];
  const { C, S, M, P } = constants(t);
  const on = cs.constraining;
  let state: FieldSignal[] = [{ value: 0n, lin: on ? lin() : null, constant: true }, ...inputs];

  const addC = (x: FieldSignal, k: bigint): FieldSignal => ({ value: F(x.value + k), lin: on ? addTerm(addScaled(lin(), x.lin!), ONE, k) : null, constant: x.constant === true });
  const sbox = (x: FieldSignal, result?: () => [Lin, bigint]): FieldSignal => {
    const x2 = F(x.value * x.value);
    const x4 = F(x2 * x2);
    const x5 = F(x4 * x.value);
    if (x.constant && !result) return { value: x5, lin: on ? constLin(x5) : null, constant: true };
    const w2 = cs.wire(x2);
    const w4 = cs.wire(x4);
    cs.enforce(() => [x.lin!, x.lin!, wireLin(w2)]);
    cs.enforce(() => [wireLin(w2), wireLin(w2), wireLin(w4)]);
    if (result) {
      cs.enforce(() => {
        const [c, scale] = result();
        return [wireLin(w4, scale), x.lin!, c];
      });
      return { value: x5, lin: null };
    }
    const w5 = cs.wire(x5);
    cs.enforce(() => [wireLin(w4), x.lin!, wireLin(w5)]);
    return { value: x5, lin: on ? wireLin(w5) : null };
  };
  const mix = (xs: FieldSignal[], m: bigint[][]): FieldSignal[] => xs.map((_, i) => {
    let v = 0n;
    const l = on ? lin() : null;
    xs.forEach((x, j) => {
      v += m[j][i] * x.value;
      if (l) addScaled(l, x.lin!, m[j][i]);
    });
    return { value: F(v), lin: l };
  });

  state = state.map((x, i) => addC(x, C[i]));
  for (let r = 0; r < N_ROUNDS_F / 2 - 1; r++) {
    state = state.map((x) => sbox(x)).map((x, i) => addC(x, C[(r + 1) * t + i]));
    state = mix(state, M);
  }
  state = state.map((x) => sbox(x)).map((x, i) => addC(x, C[(N_ROUNDS_F / 2) * t + i]));
  state = mix(state, P);
  for (let r = 0; r < nP; r++) {
    const s0 = addC(sbox(state[0]), C[(N_ROUNDS_F / 2 + 1) * t + r]);
    const row = (t * 2 - 1) * r;
    let v = 0n;
    const l = on ? lin() : null;
    [s0, ...state.slice(1)].forEach((x, j) => {
      v += S[row + j] * x.value;
      if (l) addScaled(l, x.lin!, S[row + j]);
    });
    const next: FieldSignal[] = [{ value: F(v), lin: l }];
    for (let k = 1; k < t; k++) {
      const s = S[row + t + k - 1];
      next.push({ value: F(state[k].value + s0.value * s), lin: on ? addScaled(addScaled(lin(), state[k].lin!), s0.lin!, s) : null });
    }
    state = next;
  }
  for (let r = 0; r < N_ROUNDS_F / 2 - 1; r++) {
    state = state.map((x) => sbox(x)).map((x, i) => addC(x, C[(N_ROUNDS_F / 2 + 1) * t + nP + r * t + i]));
    state = mix(state, M);
  }
  if (out === undefined) {
    const last = state.map((x) => sbox(x));
    return mix(last, M)[0];
  }
  // hash = Σ_j M[j][0]·s_j: the S-boxes 1..t-1 first, then s_0 defined from the hash wire.
  const rest = state.slice(1).map((x) => sbox(x));
  let hv = 0n;
  rest.forEach((x, j) => (hv += M[j + 1][0] * x.value));
  const s0 = sbox(state[0], () => {
    // (M00·x⁴)·x = hash - Σ_{j>0} M_j0·s_j
    const c = wireLin(out);
    rest.forEach((x, j) => addScaled(c, x.lin!, F(-M[j + 1][0])));
    return [c, M[0][0]];
  });
  const hash = F(hv + M[0][0] * s0.value);
  cs.set(out, hash);
  return { value: hash, lin: on ? wireLin(out) : null };
}
