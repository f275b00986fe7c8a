import type { Form } from './program.js';

export const signalForm = (i: number): Form => ({ idx: [i], w: [1], c: 0 });
export const constForm = (c: number): Form => ({ idx: [], w: [], c });


/** Σ_k coef[k] * forms[k] + c, merging repeated signals; zero terms dropped. */
export function combine(forms: readonly Form[], coef: ArrayLike<number>, c: number): Form {
  const acc = new Map<number, number>();
  let k0 = c;
  for (let k = 0; k < forms.length; k++) {
    const a = coef[k];
    if (a === 0) continue;
    const f = forms[k];
    k0 += a * f.c;
    for (let t = 0; t < f.idx.length; t++) {
      const i = f.idx[t];
      acc.set(i, (acc.get(i) ?? 0) + a * f.w[t]);
    }
  }
  const idx: number[] = [];
  const w: number[] = [];
  for (const [i, v] of [...acc.entries()].sort((x, y) => x[0] - y[0])) {
    if (v !== 0) {
      idx.push(i);
      w.push(v);
    }
  }
  return { idx, w, c: k0 };
}

export const addConst = (f: Form, c: number): Form => ({ idx: f.idx, w: f.w, c: f.c + c });

/** Exact interval of a form given per-signal intervals, and Σ|terms| for overflow checks. */
export function formBounds(f: Form, lo: ArrayLike<number>, hi: ArrayLike<number>): { lo: number; hi: number; abs: number } {
  let l = f.c;
  let h = f.c;
  let abs = Math.abs(f.c);
  for (let t = 0; t < f.idx.length; t++) {
    const w = f.w[t];
    const a = w * lo[f.idx[t]];
    const b = w * hi[f.idx[t]];
    l += Math.min(a, b);
    h += Math.max(a, b);
    abs += Math.max(Math.abs(a), Math.abs(b));
  }
  return { lo: l, hi: h, abs };
}

export function evalForm(f: Form, v: ArrayLike<number>): number {
  let s = f.c;
  for (let t = 0; t < f.idx.length; t++) s += f.w[t] * v[f.idx[t]];
  return s;
}
