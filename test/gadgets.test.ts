import { beforeAll, describe, expect, it } from 'vitest';
import { compileTestCircuit, type TestCircuit } from './helpers/circuit.js';
import { firstViolation } from './helpers/r1cs.js';
import { applyArgmax, applyGadget, applyMax, chooseGadget } from '../src/quantize/gadgets.js';
import { argmaxCost } from '../src/quantize/program.js';
import { FIELD_PRIME, toField } from '../src/receipt/field.js';
import { commitInputs, commitLayout, type ModelIO } from '../src/receipt/index.js';
import type { Gadget } from '../src/quantize/program.js';

const NEURONS = 3;

/** A main with NEURONS copies of one gadget on private accumulators. */
const gadgetMain = (call: string) => `
template T() {
    signal input acc[${NEURONS}];
    signal output out[${NEURONS}];
    component g[${NEURONS}];
    for (var i = 0; i < ${NEURONS}; i++) {
        g[i] = ${call};
        g[i].in <== acc[i];
        out[i] <== g[i].out;
    }
}
component main = T();`;

const bitWires = (c: TestCircuit, i: number, nb: number): number[] =>
  Array.from({ length: nb }, (_, b) => c.sym.get(`main.g[${i}].d.bits[${b}]`)).filter((w): w is number => w !== undefined);

function expectTampersFail(c: TestCircuit, w: bigint[], wires: number[]) {
  expect(firstViolation(c.r1cs, w)).toBe(-1);
  for (const wire of wires) {
    const t = [...w];
    t[wire] = (t[wire] + 1n) % FIELD_PRIME;
    expect(firstViolation(c.r1cs, t), `tampered wire ${wire}`).toBeGreaterThanOrEqual(0);
  }
}

describe('RescaleRelu gadget', () => {
  // acc in [-300, 500], rescaled by 2^3 with rounding half up, then ReLU.
  const g = chooseGadget(-300, 500, 3, true, 'test') as Extract<Gadget, { kind: 'rescale-relu' }>;
  let c: TestCircuit;
  beforeAll(async () => {
    c = await compileTestCircuit('rescale-relu', gadgetMain(`RescaleRelu(${g.nb}, ${g.shift}, ${g.offset})`));
  });

  it('costs exactly NB + 1 constraints per neuron', () => {
    expect(g.kind).toBe('rescale-relu');
    expect(c.r1cs.constraints.length).toBe(NEURONS * (g.nb + 1));
  });

  it('matches the integer reference on every accumulator in its bounds', async () => {
    for (let a = -300; a <= 500; a += 3) {
      const w = await c.witness({ acc: [a, a + 1, a + 2].map((v) => toField(BigInt(v)).toString()) });
      expect(firstViolation(c.r1cs, w)).toBe(-1);
      for (let i = 0; i < NEURONS; i++) {
        expect(Number(w[c.wire(`main.out[${i}]`)])).toBe(applyGadget(g, a + i));
        expect(applyGadget(g, a + i)).toBe(Math.max(0, Math.floor((a + i + 4) / 8)));
      }
    }
  });

  it('rejects a flipped bit, a wrong quotient and a wrong output', async () => {
    for (const a of [-300, -5, -4, 0, 3, 4, 123, 500]) {
      const w = await c.witness({ acc: [a, 0, 0].map((v) => toField(BigInt(v)).toString()) });
      expectTampersFail(c, w, [...bitWires(c, 0, g.nb), c.wire('main.out[0]')]);
      // A quotient one lower with the remainder raised by 2^shift: still not a valid witness.
      const t = [...w];
      t[c.wire('main.out[0]')] = toField(w[c.wire('main.out[0]')] - 1n);
      expect(firstViolation(c.r1cs, t)).toBeGreaterThanOrEqual(0);
    }
  });

  it('cannot be satisfied outside its bounds', async () => {
    const top = 2 ** (g.nb - 1);
    for (const a of [top - g.offset + 2 ** g.nb, -g.offset - 1]) {
      await expect(c.witness({ acc: [a, 0, 0].map((v) => toField(BigInt(v)).toString()) })).rejects.toThrow();
    }
  });
});

describe('Rescale gadget (signed, no ReLU)', () => {
  const g = chooseGadget(-1000, 700, 4, false, 'test') as Extract<Gadget, { kind: 'rescale' }>;
  let c: TestCircuit;
  beforeAll(async () => {
    c = await compileTestCircuit('rescale', gadgetMain(`Rescale(${g.nb}, ${g.shift}, ${g.offset}, ${g.sub})`));
  });

  it('costs exactly NB constraints per neuron', () => {
    expect(c.r1cs.constraints.length).toBe(NEURONS * g.nb);
  });

  it('rounds half up, bit-exact with the reference', async () => {
    for (let a = -1000; a <= 700; a += 7) {
      const w = await c.witness({ acc: [a, a + 1, a + 2].map((v) => toField(BigInt(v)).toString()) });
      for (let i = 0; i < NEURONS; i++) {
        const want = Math.floor((a + i + 8) / 16);
        expect(applyGadget(g, a + i)).toBe(want);
        expect(w[c.wire(`main.out[${i}]`)]).toBe(toField(BigInt(want)));
      }
    }
  });

  it('rejects tampered bits and outputs', async () => {
    const w = await c.witness({ acc: ['5', toField(-77n).toString(), '699'] });
    expectTampersFail(c, w, [...bitWires(c, 1, g.nb), c.wire('main.out[1]')]);
  });
});

describe('InRange input check', () => {
  const NB = 5;
  const LO = -3;
  let c: TestCircuit;
  beforeAll(async () => {
    c = await compileTestCircuit('in-range', `
template T() {
    signal input x[${NEURONS}];
    component r[${NEURONS}];
    for (var i = 0; i < ${NEURONS}; i++) {
        r[i] = InRange(${NB}, ${LO});
        r[i].in <== x[i];
    }
}
component main {public [x]} = T();`, ['bits.circom']);
  });

  it('costs exactly NB constraints per input', () => {
    expect(c.r1cs.constraints.length).toBe(NEURONS * NB);
  });

  it('accepts exactly [LO, LO + 2^NB - 1]', async () => {
    for (const v of [LO, 0, LO + 2 ** NB - 1]) {
      const w = await c.witness({ x: [v, v, v].map((x) => toField(BigInt(x)).toString()) });
      expect(firstViolation(c.r1cs, w)).toBe(-1);
    }
    for (const v of [LO - 1, LO + 2 ** NB, 2 ** 40]) {
      await expect(c.witness({ x: [toField(BigInt(v)).toString(), '0', '0'] })).rejects.toThrow();
    }
  });

  it('rejects an out-of-range value with forged bits, and flipped bits', async () => {
    const w = await c.witness({ x: ['7', '0', '0'] });
    const wires = Array.from({ length: NB }, (_, b) => c.sym.get(`main.r[0].d.bits[${b}]`)).filter((x): x is number => x !== undefined);
    expectTampersFail(c, w, wires);
    // Same low bits, value moved by 2^NB: out of range, must fail.
    const t = [...w];
    t[c.wire('main.x[0]')] = w[c.wire('main.x[0]')] + BigInt(2 ** NB);
    expect(firstViolation(c.r1cs, t)).toBeGreaterThanOrEqual(0);
    // The field's wrap-around: x = LO - 1 written as p + LO - 1.
    t[c.wire('main.x[0]')] = FIELD_PRIME + BigInt(LO - 1);
    expect(firstViolation(c.r1cs, t)).toBeGreaterThanOrEqual(0);
  });
});

describe('Max2 gadget (max-pool comparison chain)', () => {
  const NB = 9;
  let c: TestCircuit;
  beforeAll(async () => {
    c = await compileTestCircuit('max2', `
template T() {
    signal input a[${NEURONS}];
    signal input b[${NEURONS}];
    signal output out[${NEURONS}];
    component g[${NEURONS}];
    for (var i = 0; i < ${NEURONS}; i++) {
        g[i] = Max2(${NB});
        g[i].a <== a[i];
        g[i].b <== b[i];
        out[i] <== g[i].out;
    }
}
component main = T();`, ['compare.circom']);
  });

  it('costs exactly NB + 1 constraints per comparison', () => {
    expect(c.r1cs.constraints.length).toBe(NEURONS * (NB + 1));
  });

  it('computes max(a, b) like the reference, ties included', async () => {
    const pairs = [[5, 3], [3, 5], [-7, -7], [-255, 0], [0, 255], [100, -100]];
    for (const [a, b] of pairs) {
      const w = await c.witness({ a: [a, a, a].map((v) => toField(BigInt(v)).toString()), b: [b, b, b].map((v) => toField(BigInt(v)).toString()) });
      expect(w[c.wire('main.out[0]')]).toBe(toField(BigInt(Math.max(a, b))));
      expect(applyMax(NB, a, b)).toBe(Math.max(a, b));
    }
  });

  it('rejects the smaller value as output, flipped bits, and out-of-range differences', async () => {
    const w = await c.witness({ a: ['9', '1', '1'], b: ['4', '1', '1'] });
    const t = [...w];
    t[c.wire('main.out[0]')] = 4n;
    expect(firstViolation(c.r1cs, t)).toBeGreaterThanOrEqual(0);
    expectTampersFail(c, w, bitWires(c, 0, NB));
    await expect(c.witness({ a: ['256', '0', '0'], b: ['0', '0', '0'] })).rejects.toThrow();
  });
});

describe('ArgMax gadget', () => {
  const N = 5;
  const NB = 8;
  let c: TestCircuit;
  beforeAll(async () => {
    c = await compileTestCircuit('argmax', `
template T() {
    signal input x[${N}];
    signal output out;
    component g = ArgMax(${N}, ${NB});
    g.in <== x;
    out <== g.out;
}
component main = T();`, ['compare.circom']);
  });

  it('costs exactly (N-1)(NB+2) - 1 constraints', () => {
    expect(c.r1cs.constraints.length).toBe(argmaxCost(N, NB));
  });

  it('returns the first index of the maximum, like ONNX and the reference', async () => {
    const cases = [[1, 5, 3, 5, 2], [9, 1, 2, 3, 4], [-3, -1, -2, -1, -5], [0, 0, 0, 0, 0], [-60, 60, -60, 61, 0]];
    for (const xs of cases) {
      const w = await c.witness({ x: xs.map((v) => toField(BigInt(v)).toString()) });
      const want = xs.indexOf(Math.max(...xs));
      expect(Number(w[c.wire('main.out')])).toBe(want);
      expect(applyArgmax(NB, xs)).toBe(want);
    }
  });

  it('rejects another index and flipped comparison bits', async () => {
    const w = await c.witness({ x: ['1', '5', '3', '5', '2'] });
    const t = [...w];
    t[c.wire('main.out')] = 3n;
    expect(firstViolation(c.r1cs, t)).toBeGreaterThanOrEqual(0);
    const bits = [...c.sym.entries()].filter(([n]) => /main\.g\.d\[\d\]\.bits/.test(n)).map(([, wire]) => wire);
    expect(bits.length).toBeGreaterThan(0);
    expectTampersFail(c, w, bits);
  });
});

describe('PackInputs + Poseidon commitment', () => {
  const N = 20;
  const NB = 5;
  const LO = -3;
  const io = { input: { bits: NB, lo: LO } } as unknown as ModelIO;
  const lay = commitLayout(N, NB);
  let c: TestCircuit;
  beforeAll(async () => {
    c = await compileTestCircuit('commit', `
template T() {
    signal input x[${N}];
    signal input salt;
    signal output out;
    component rc[${N}];
    for (var i = 0; i < ${N}; i++) {
        rc[i] = InRange(${NB}, ${LO});
        rc[i].in <== x[i];
    }
    component pack = PackInputs(${N}, ${NB}, ${LO}, ${lay.perPack}, ${lay.packs});
    pack.in <== x;
    component h = Poseidon(${lay.packs + 1});
    for (var p = 0; p < ${lay.packs}; p++) h.inputs[p] <== pack.packs[p];
    h.inputs[${lay.packs}] <== salt;
    out <== h.out;
}
component main = T();`, ['bits.circom', 'commit.circom', 'poseidon.circom']);
  });

  it('equals the commitment computed outside the circuit', async () => {
    const xs = Array.from({ length: N }, (_, i) => BigInt((i % (2 ** NB)) + LO));
    const w = await c.witness({ x: xs.map((v) => toField(v).toString()), salt: '12345' });
    expect(firstViolation(c.r1cs, w)).toBe(-1);
    expect(w[c.wire('main.out')]).toBe(await commitInputs(io, xs, 12345n));
  });

  it('rejects a changed input, salt or commitment under the same witness', async () => {
    const xs = Array.from({ length: N }, () => 0n);
    const w = await c.witness({ x: xs.map(String), salt: '7' });
    for (const name of ['main.x[3]', 'main.x[19]', 'main.salt', 'main.out']) {
      const t = [...w];
      t[c.wire(name)] = (t[c.wire(name)] + 1n) % FIELD_PRIME;
      expect(firstViolation(c.r1cs, t), name).toBeGreaterThanOrEqual(0);
    }
  });
});
