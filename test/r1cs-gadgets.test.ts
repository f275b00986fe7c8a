import { describe, expect, it } from 'vitest';
import { Builder } from '../src/r1cs/builder.js';
import { firstViolation } from '../src/r1cs/check.js';
import { constLin, wireLin } from '../src/r1cs/lin.js';
import { product } from '../src/r1cs/gadgets/product.js';
import { divide, sqrt } from '../src/r1cs/gadgets/divide.js';
import { fnGadget, multilinear } from '../src/r1cs/gadgets/fn.js';
import { chooseFn, SMOOTH_FNS } from '../src/quantize/fn-table.js';
import { decompose, inRange } from '../src/r1cs/gadgets/bits.js';
import { rescale, rescaleRelu, type Signal } from '../src/r1cs/gadgets/rescale.js';
import { argMax, isZero, max2 } from '../src/r1cs/gadgets/compare.js';
import { packInputs } from '../src/r1cs/gadgets/pack.js';
import { poseidon, poseidonCost } from '../src/r1cs/gadgets/poseidon.js';
import { applyArgmax, applyDiv, applyFn, applyGadget, applyMax, chooseGadget } from '../src/quantize/gadgets.js';
import { argmaxCost, fnCost, gadgetCost, type Gadget } from '../src/quantize/program.js';
import { FIELD_PRIME, toField } from '../src/receipt/field.js';
import { commitInputs, commitLayout, type ModelIO } from '../src/receipt/index.js';

const INPUT = /^(acc|a|b|x|salt|x\[\d+\])$/;

/** A circuit built by `f` with the builder, its witness, and checks on tampered copies. */
function circuit(f: (cs: Builder) => void) {
  const cs = new Builder({ constraints: true, names: true });
  f(cs);
  const c = cs.finish(() => {
    throw new Error('no pivots here');
  });
  const w = Array.from({ length: c.nWires }, (_, i) => c.value(i));
  const names = new Map(c.names.map((n, i) => [n, i]));
  const holds = (t: readonly bigint[]) => firstViolation(c.constraintChunks, (i) => t[i]) === null;
  return {
    c, w, holds,
    wire: (n: string) => {
      const x = names.get(n);
      if (x === undefined) throw new Error(`no wire ${n}`);
      return x;
    },
    /**
     * Every wire the gadget made (bits, intermediate values, the output),
     * moved by +1 and by -1 in turn, must break a constraint. Its inputs are
     * left alone: another input is another valid witness.
     */
    expectEveryTamperFails() {
      expect(holds(w)).toBe(true);
      for (let i = 1; i < w.length; i++) {
        if (INPUT.test(c.names[i])) continue;
        for (const d of [1n, FIELD_PRIME - 1n]) {
          const t = [...w];
          t[i] = (t[i] + d) % FIELD_PRIME;
          expect(holds(t), `wire ${i} (${c.names[i]}) moved`).toBe(false);
        }
      }
    },
  };
}

const input = (cs: Builder, v: number, name: string): Signal => {
  const w = cs.wire(v, name);
  return { value: v, lin: () => wireLin(w) };
};
const out = (cs: Builder, name: string) => (v: number) => cs.wire(v, name);
const at = (what: string) => () => what;

describe('RescaleRelu', () => {
  const g = chooseGadget(-300, 500, 3, true, 'test') as Extract<Gadget, { kind: 'rescale-relu' }>;
  const build = (a: number) => circuit((cs) => rescaleRelu(cs, input(cs, a, 'acc'), g.nb, g.shift, g.offset, out(cs, 'out'), at('relu'), (b) => `bits[${b}]`));

  it('costs exactly nb + 1 constraints', () => {
    expect(g.kind).toBe('rescale-relu');
    expect(build(0).c.nConstraints).toBe(g.nb + 1);
  });

  it('matches the integer reference on every accumulator in its bounds', () => {
    for (let a = -300; a <= 500; a += 3) {
      const t = build(a);
      expect(t.w[t.wire('out')]).toBe(toField(BigInt(applyGadget(g, a)!)));
      expect(applyGadget(g, a)).toBe(Math.max(0, Math.floor((a + 4) / 8)));
      if (a % 51 === 0) expect(t.holds(t.w)).toBe(true);
    }
  });

  it('rejects every tampered wire: a bit, the accumulator, the output', () => {
    for (const a of [-300, -5, -4, 0, 3, 4, 123, 500]) build(a).expectEveryTamperFails();
  });

  it('refuses an accumulator outside its bounds, naming where', () => {
    const top = 2 ** (g.nb - 1);
    for (const a of [top - g.offset + 2 ** g.nb, -g.offset - 1]) expect(() => build(a)).toThrow(/relu: value .* outside its proven range/);
  });
});

describe('Rescale (signed, no ReLU)', () => {
  const g = chooseGadget(-1000, 700, 4, false, 'test') as Extract<Gadget, { kind: 'rescale' }>;
  const build = (a: number) => circuit((cs) => rescale(cs, input(cs, a, 'acc'), g.nb, g.shift, g.offset, g.sub, out(cs, 'out'), at('rescale')));

  it('costs exactly nb constraints, its output a wire at no cost', () => {
    const t = build(5);
    expect(t.c.nConstraints).toBe(g.nb);
    expect(t.c.nWires).toBe(1 + 1 + 1 + (g.nb - 2));
  });

  it('rounds half up, bit-exact with the reference', () => {
    for (let a = -1000; a <= 700; a += 7) {
      const want = Math.floor((a + 8) / 16);
      expect(applyGadget(g, a)).toBe(want);
      const t = build(a);
      expect(t.w[t.wire('out')]).toBe(toField(BigInt(want)));
    }
  });

  it('rejects every tampered wire', () => {
    for (const a of [-1000, -77, -8, 0, 7, 8, 699]) build(a).expectEveryTamperFails();
  });

  it('with shift 0 is nb constraints and its output a linear combination', () => {
    const z = chooseGadget(-100, 100, 0, false, 'test') as Extract<Gadget, { kind: 'rescale' }>;
    const t = circuit((cs) => {
      const s = rescale(cs, input(cs, -42, 'acc'), z.nb, 0, z.offset, z.sub, out(cs, 'out'), at('rescale'));
      expect(s.value).toBe(-42);
    });
    expect(t.c.nConstraints).toBe(z.nb);
    t.expectEveryTamperFails();
  });
});

describe('InRange', () => {
  const NB = 5;
  const LO = -3;
  const build = (v: number) => circuit((cs) => {
    const x = cs.wire(v, 'x');
    inRange(cs, x, v, NB, LO, at('input 0'));
  });

  it('costs exactly nb constraints', () => expect(build(0).c.nConstraints).toBe(NB));

  it('accepts exactly [lo, lo + 2^nb - 1]', () => {
    for (let v = LO; v < LO + 2 ** NB; v++) expect(build(v).holds(build(v).w)).toBe(true);
    for (const v of [LO - 1, LO + 2 ** NB, 2 ** 40]) expect(() => build(v)).toThrow(/input 0: value .* outside/);
  });

  it('rejects every tampered bit, a value moved by 2^nb and the field\'s wrap-around', () => {
    const t = build(7);
    t.expectEveryTamperFails();
    const x = t.wire('x');
    const moved = [...t.w];
    moved[x] = t.w[x] + BigInt(2 ** NB);
    expect(t.holds(moved)).toBe(false);
    moved[x] = FIELD_PRIME + BigInt(LO - 1);
    expect(t.holds(moved)).toBe(false);
  });
});

describe('Max2', () => {
  const NB = 9;
  const build = (a: number, b: number) => circuit((cs) => max2(cs, input(cs, a, 'a'), input(cs, b, 'b'), NB, out(cs, 'out'), at('max')));

  it('costs exactly nb + 1 constraints', () => expect(build(1, 2).c.nConstraints).toBe(NB + 1));

  it('computes max(a, b) like the reference, ties included', () => {
    for (const [a, b] of [[5, 3], [3, 5], [-7, -7], [-255, 0], [0, 255], [100, -100]]) {
      const t = build(a, b);
      expect(t.w[t.wire('out')]).toBe(toField(BigInt(Math.max(a, b))));
      expect(applyMax(NB, a, b)).toBe(Math.max(a, b));
    }
  });

  it('rejects the smaller value as output and every tampered wire', () => {
    const t = build(9, 4);
    const smaller = [...t.w];
    smaller[t.wire('out')] = 4n;
    expect(t.holds(smaller)).toBe(false);
    t.expectEveryTamperFails();
    build(-7, -7).expectEveryTamperFails();
    expect(() => build(256, 0)).toThrow(/outside its proven range/);
  });
});

describe('ArgMax', () => {
  const NB = 8;
  const build = (xs: number[]) => circuit((cs) => {
    const ins = xs.map((v, i) => input(cs, v, `x[${i}]`));
    argMax(cs, ins, NB, out(cs, 'out'), (i) => `comparison ${i}`);
  });

  it('costs exactly (n - 1)(nb + 2) - 1 constraints', () => expect(build([1, 2, 3, 4, 5]).c.nConstraints).toBe(argmaxCost(5, NB)));

  it('returns the first index of the maximum, like ONNX and the reference', () => {
    for (const xs of [[1, 5, 3, 5, 2], [9, 1, 2, 3, 4], [-3, -1, -2, -1, -5], [0, 0, 0, 0, 0], [-60, 60, -60, 61, 0]]) {
      const t = build(xs);
      const want = xs.indexOf(Math.max(...xs));
      expect(t.w[t.wire('out')]).toBe(BigInt(want));
      expect(applyArgmax(NB, xs)).toBe(want);
    }
  });

  it('rejects another index and every tampered wire', () => {
    const t = build([1, 5, 3, 5, 2]);
    const other = [...t.w];
    other[t.wire('out')] = 3n;
    expect(t.holds(other)).toBe(false);
    t.expectEveryTamperFails();
  });
});

describe('PackInputs + Poseidon commitment', () => {
  const N = 20;
  const NB = 5;
  const LO = -3;
  const io = { input: { bits: NB, lo: LO } } as unknown as ModelIO;
  const lay = commitLayout(N, NB);
  const build = (xs: bigint[], salt: bigint) => circuit((cs) => {
    const hash = cs.wire(0, 'out');
    const wires = xs.map((x, i) => cs.wire(Number(x), `x[${i}]`));
    const s = cs.wire(salt, 'salt');
    wires.forEach((w, i) => inRange(cs, w, Number(xs[i]), NB, LO, at(`input ${i}`)));
    const packs = packInputs(cs, wires, xs, lay.perPack, NB, LO);
    poseidon(cs, [...packs, { value: salt, lin: wireLin(s) }], hash);
  });

  it('equals the commitment computed outside the circuit, at the stated cost', async () => {
    const xs = Array.from({ length: N }, (_, i) => BigInt((i % (2 ** NB)) + LO));
    const t = build(xs, 12345n);
    expect(t.holds(t.w)).toBe(true);
    expect(t.w[t.wire('out')]).toBe(await commitInputs(io, xs, 12345n));
    expect(t.c.nConstraints).toBe(N * NB + poseidonCost(lay.packs + 1));
  });

  it('the witness-only build gives the same values as the constraint build', () => {
    const xs = Array.from({ length: N }, () => 1n);
    const t = build(xs, 7n);
    const cs = new Builder({ constraints: false, names: false });
    const hash = cs.wire(0);
    const wires = xs.map((x) => cs.wire(Number(x)));
    const s = cs.wire(7n);
    wires.forEach((w, i) => inRange(cs, w, Number(xs[i]), NB, LO, at(`input ${i}`)));
    poseidon(cs, [...packInputs(cs, wires, xs, lay.perPack, NB, LO), { value: 7n, lin: null }], hash);
    const c = cs.finish(() => {
      throw new Error('no pivots');
    });
    expect(c.nConstraints).toBe(t.c.nConstraints);
    expect(Array.from({ length: c.nWires }, (_, i) => c.value(i))).toEqual(t.w);
  });

  it('rejects a changed input, salt or commitment under the same witness', () => {
    const t = build(Array.from({ length: N }, () => 0n), 7n);
    for (const name of ['x[3]', 'x[19]', 'salt', 'out']) {
      const m = [...t.w];
      m[t.wire(name)] = (m[t.wire(name)] + 1n) % FIELD_PRIME;
      expect(t.holds(m), name).toBe(false);
    }
  });
});

describe('Decompose', () => {
  it('is unique: a value has one bit pattern, and a forged one fails', () => {
    const t = circuit((cs) => {
      const x = cs.wire(13, 'x');
      decompose(cs, () => wireLin(x), 13, 6, at('x'), { name: (b) => `b${b}` });
    });
    expect(t.c.nConstraints).toBe(6);
    t.expectEveryTamperFails();
    // 13 = 0b001101; bits 2 and 3 swapped for bit 1 twice: 13 = 1 + 2·2 + 8 is not binary.
    const forged = [...t.w];
    forged[t.wire('b1')] = 2n;
    forged[t.wire('b2')] = 0n;
    expect(t.holds(forged)).toBe(false);
  });
});

describe('Product', () => {
  const build = (xs: number[], base: number) => circuit((cs) => {
    const pairs = Array.from({ length: xs.length / 2 }, (_, t) => [input(cs, xs[2 * t], `x[${2 * t}]`), input(cs, xs[2 * t + 1], `x[${2 * t + 1}]`)] as const);
    const s = product(cs, { value: base, lin: () => constLin(base) }, pairs, out(cs, 'out'));
    expect(s.value).toBe(base + pairs.reduce((a, [p, q]) => a + p.value * q.value, 0));
  });

  it('costs one constraint per product, the last one carrying the sum', () => {
    expect(build([3, -4], 0).c.nConstraints).toBe(1);
    expect(build([3, -4, 5, 6, -7, 8], 9).c.nConstraints).toBe(3);
  });

  it('rejects every tampered product and output', () => {
    build([3, -4, 5, 6, -7, 8], 9).expectEveryTamperFails();
    build([0, 12], -3).expectEveryTamperFails();
  });
});

describe('Div', () => {
  const g = { k: 6, rb: 8, qb: 12, qoff: 2048 };
  const build = (n: number, d: number) => circuit((cs) => divide(cs, input(cs, n, 'a'), input(cs, d, 'b'), g, out(cs, 'out'), at('div'), (p, i) => `${p}[${i}]`));

  it('costs 1 + 2·rb + qb constraints and floors n·2^k / d exactly', () => {
    expect(build(5, 3).c.nConstraints).toBe(gadgetCost({ kind: 'div', ...g }));
    for (const [n, d] of [[5, 3], [-5, 3], [0, 1], [31, 255], [-32, 1], [7, 200]]) {
      const t = build(n, d);
      expect(t.w[t.wire('out')]).toBe(toField(BigInt(Math.floor((n * 64) / d))));
      expect(applyDiv(g, n, d)).toBe(Math.floor((n * 64) / d));
    }
  });

  it('rejects every tampered wire: the quotient, the product, a bit of the remainder or its gap', () => {
    for (const [n, d] of [[5, 3], [-5, 3], [31, 255], [-32, 1]]) build(n, d).expectEveryTamperFails();
  });

  it('refuses a quotient outside its range and a zero denominator', () => {
    expect(() => build(100, 1)).toThrow(/div: .* outside its proven range/);
    expect(() => build(1, 0)).toThrow(/outside its proven range/);
  });
});

describe('Sqrt', () => {
  const g = { k: 2, gb: 9 };
  const build = (x: number) => circuit((cs) => sqrt(cs, input(cs, x, 'x'), g, out(cs, 'out'), at('sqrt'), (p, i) => `${p}[${i}]`));

  it('costs 1 + 2·gb constraints and floors sqrt(x·2^k)', () => {
    expect(build(10).c.nConstraints).toBe(gadgetCost({ kind: 'sqrt', ...g }));
    for (const x of [0, 1, 2, 3, 4, 10, 99, 100, 4095]) {
      const t = build(x);
      expect(t.w[t.wire('out')]).toBe(toField(BigInt(Math.floor(Math.sqrt(x * 4)))));
    }
  });

  it('rejects every tampered wire, the negated root included', () => {
    for (const x of [0, 3, 100, 4095]) {
      const t = build(x);
      t.expectEveryTamperFails();
      const neg = [...t.w];
      neg[t.wire('out')] = (FIELD_PRIME - neg[t.wire('out')]) % FIELD_PRIME;
      if (x > 0) expect(t.holds(neg)).toBe(false);
    }
  });
});

describe('Fn (piecewise polynomial on the input bits)', () => {
  const scale = 8;
  const sig = chooseFn(SMOOTH_FNS.Sigmoid, { lo: -16 * 2 ** scale, hi: 16 * 2 ** scale, scale }, 6, 'test');
  const exp = chooseFn(SMOOTH_FNS.Exp, { lo: -12 * 2 ** scale, hi: 0, scale }, 6, 'test');
  const tanh = chooseFn(SMOOTH_FNS.Tanh, { lo: -2 * 2 ** scale, hi: 2 * 2 ** scale, scale }, 6, 'test');
  const build = (c: typeof sig, a: number) => circuit((cs) => {
    const alpha = multilinear(c.table, c.gadget.h, c.gadget.d);
    const s = fnGadget(cs, input(cs, a, 'acc'), c.gadget, c.table, alpha, out(cs, 'out'), at('fn'), (b) => `bits[${b}]`);
    expect(s.value).toBe(applyFn(c.gadget, c.table, a));
  });

  it('saturating and windowed variants cost what fnCost states', () => {
    expect(sig.gadget.nb).toBeGreaterThan(sig.gadget.shift + sig.gadget.m);
    expect(tanh.gadget.nb).toBe(tanh.gadget.shift + tanh.gadget.m);
    for (const c of [sig, exp, tanh]) expect(build(c, 0).c.nConstraints).toBe(fnCost(c.gadget));
  });

  it('matches the reference on every input in its bounds', () => {
    for (const [c, lo, hi] of [[sig, -16, 16], [exp, -12, 0], [tanh, -2, 2]] as const) {
      for (let a = lo * 2 ** scale; a <= hi * 2 ** scale; a += 37) {
        const t = build(c, a);
        expect(t.w[t.wire('out')]).toBe(toField(BigInt(applyFn(c.gadget, c.table, a)!)));
      }
    }
  });

  it('rejects every tampered wire: a bit, a monomial, a power, a product, the window test, the output', () => {
    // Inside the window w = 0 and the inverse is free: it cannot change the output (o = w·inv = 0).
    const free = /\.inv$/;
    for (const [c, a] of [[sig, -4000], [sig, -100], [sig, 0], [sig, 700], [sig, 4096], [exp, -3000], [exp, -1], [tanh, -512], [tanh, 300]] as const) {
      const t = build(c, a);
      expect(t.holds(t.w)).toBe(true);
      for (let i = 1; i < t.w.length; i++) {
        if (INPUT.test(t.c.names[i]) || free.test(t.c.names[i])) continue;
        for (const d of [1n, FIELD_PRIME - 1n]) {
          const w = [...t.w];
          w[i] = (w[i] + d) % FIELD_PRIME;
          expect(t.holds(w), `wire ${i} (${t.c.names[i]}) moved at ${a}`).toBe(false);
        }
      }
    }
  });
});

describe('IsZero', () => {
  const build = (x: number) => circuit((cs) => isZero(cs, input(cs, x, 'x'), out(cs, 'out'), () => 'inv'));

  it('costs 2 constraints and answers x = 0', () => {
    expect(build(0).c.nConstraints).toBe(2);
    for (const x of [0, 1, -1, 7, -300]) {
      const t = build(x);
      expect(t.w[t.wire('out')]).toBe(x === 0 ? 1n : 0n);
    }
  });

  it('rejects a flipped output and a wrong inverse; at x = 0 the inverse is free and cannot change the output', () => {
    for (const x of [1, -1, 7, -300]) build(x).expectEveryTamperFails();
    const t = build(0);
    const w = [...t.w];
    w[t.wire('out')] = 0n;
    for (const inv of [0n, 1n, 12345n]) {
      w[t.wire('inv')] = inv;
      expect(t.holds(w)).toBe(false);
    }
  });
});
