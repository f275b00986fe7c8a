import crypto from 'node:crypto';
import fs from 'node:fs';
import { buildBn128 } from 'ffjavascript';
import { nativeBn254 } from '../prove/native.js';
import { FixedBase, type GroupName } from './fixed-base.js';

/**
 * A development powers of tau written directly in snarkjs' prepared ptau
 * format (sections 1-7 and the Lagrange sections 12-15), from secrets τ, α, β
 * drawn at random and dropped when done.
 *
 * snarkjs builds the Lagrange sections with an inverse FFT over group
 * elements: (n/2)·log n scalar multiplications per size. Knowing τ, we take
 * that inverse FFT over the scalar field instead (cheap) and multiply the
 * generator once per point with a fixed-base table (native where the
 * kernels build, WebAssembly otherwise), so 2^17 takes about half a minute
 * natively, a minute and a half in WebAssembly, instead of hours. The file carries no contribution transcript:
 * it is a development ceremony and is recorded as one.
 */
export async function writeDevPtau(file: string, power: number, progress: (m: string) => void = () => {}): Promise<void> {
  const curve = await buildBn128(true);
  try {
    const Fr = curve.Fr;
    const rand = (): unknown => Fr.e(BigInt(`0x${crypto.randomBytes(64).toString('hex')}`));
    let tau: unknown = rand();
    let alpha: unknown = rand();
    let beta: unknown = rand();
    const n8 = 32;
    const nG1 = 2 ** (power + 1);
    const big = nG1 * 6 > 200_000;
    const nat = nativeBn254();
    const tables = new Map<GroupName, FixedBase>();
    const generator = { G1: curve.G1.toAffine(curve.G1.g) as Uint8Array, G2: curve.G2.toAffine(curve.G2.g) as Uint8Array };
    /** scalars (standard form) times the group's generator, affine Montgomery. */
    const mulGen = (group: GroupName, scalars: Uint8Array): Uint8Array => {
      if (nat) return nat.fixedBase(group === 'G2', generator[group], scalars);
      let fb = tables.get(group);
      if (!fb) tables.set(group, (fb = new FixedBase(curve, group, big ? 16 : 8)));
      return fb.mulMany(scalars, scalars.length / n8);
    };

    // Field batches natively where the kernels build, else one WebAssembly call per element.
    const powers = (x: unknown, count: number): Uint8Array => {
      if (nat) return nat.frPowers(x as Uint8Array, count);
      const out = new Uint8Array(count * n8);
      let acc = Fr.one;
      for (let i = 0; i < count; i++) {
        out.set(acc, i * n8);
        acc = Fr.mul(acc, x);
      }
      return out;
    };
    /** buf·k, from Montgomery field elements to the standard little-endian scalars the table takes. */
    const scaledStandard = (buf: Uint8Array, k: unknown): Uint8Array => {
      if (nat) return nat.frScaleStandard(buf, k as Uint8Array);
      const out = new Uint8Array(buf.length);
      for (let i = 0; i < buf.length; i += n8) Fr.toRprLE(out, i, Fr.mul(buf.subarray(i, i + n8), k));
      return out;
    };
    const ifft = async (a: Uint8Array, p: number): Promise<Uint8Array> =>
      nat ? nat.frIfft(a, Fr.inv(Fr.w[p]), Fr.inv(Fr.e(2 ** p))) : new Uint8Array(await Fr.ifft(a));

    // τ^0 .. τ^(2^(power+1) - 1), Montgomery form.
    const taus = powers(tau, nG1);
    const slice = (buf: Uint8Array, n: number) => buf.subarray(0, n * n8);
    /** k·buf_i times the generator (k defaults to one). */
    const points = (group: GroupName, mont: Uint8Array, k: unknown = Fr.one) => mulGen(group, scaledStandard(mont, k));

    const fd = fs.openSync(file, 'w');
    const write = (b: Uint8Array) => fs.writeSync(fd, b);
    const u32 = (v: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(v);
      return b;
    };
    const section = (type: number, parts: Uint8Array[]) => {
      const size = parts.reduce((s, p) => s + p.length, 0);
      const h = Buffer.alloc(12);
      h.writeUInt32LE(type, 0);
      h.writeBigUInt64LE(BigInt(size), 4);
      write(h);
      parts.forEach(write);
    };
    try {
      write(Buffer.from('ptau'));
      write(u32(1));
      write(u32(11));
      const q = Buffer.alloc(n8);
      let qv = curve.q as bigint;
      for (let i = 0; i < n8; i++, qv >>= 8n) q[i] = Number(qv & 0xffn);
      section(1, [u32(n8), q, u32(power), u32(power)]);

      const n = 2 ** power;
      progress(`ptau 2^${power}: powers of τ`);
      section(2, [points('G1', slice(taus, nG1 - 1))]);
      section(3, [points('G2', slice(taus, n))]);
      section(4, [points('G1', slice(taus, n), alpha)]);
      section(5, [points('G1', slice(taus, n), beta)]);
      section(6, [points('G2', Fr.one, beta)]);
      section(7, [u32(0)]);

      // Lagrange bases for every domain size 2^p: ifft of (τ^j) in the field.
      progress(`ptau 2^${power}: Lagrange bases`);
      const lag: Uint8Array[] = [];
      for (let p = 0; p <= power + 1; p++) {
        const m = 2 ** p;
        const a = new Uint8Array(m * n8);
        a.set(slice(taus, m));
        // snarkjs' top level reads τ^0..τ^(m-2) and sets the last point to zero.
        if (p === power + 1) a.fill(0, (m - 1) * n8);
        lag.push(await ifft(a, p));
      }
      section(12, lag.map((l) => points('G1', l)));
      section(13, lag.slice(0, power + 1).map((l) => points('G2', l)));
      section(14, lag.slice(0, power + 1).map((l) => points('G1', l, alpha)));
      section(15, lag.slice(0, power + 1).map((l) => points('G1', l, beta)));
    } finally {
      fs.closeSync(fd);
    }
    tau = alpha = beta = null;
  } finally {
    await curve.terminate();
  }
}
