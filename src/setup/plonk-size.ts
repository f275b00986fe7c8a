/**
 * PLONK-style gate count of an r1cs, as snarkjs' PLONK and FFLONK setups
 * derive it: one gate per public signal, and per r1cs row one gate plus one
 * addition gate for each term beyond what the gate holds (3 for a linear
 * row, 1 per operand of a product). Linear forms with many terms, free in
 * Groth16, are what make these systems' circuits larger.
 */
type Lc = Record<string, bigint>;

const terms = (lc: Lc): { vars: string[]; k: boolean } => {
  const vars: string[] = [];
  let k = false;
  for (const [s, c] of Object.entries(lc)) {
    if (c === 0n) continue;
    if (s === '0') k = true;
    else vars.push(s);
  }
  return { vars, k };
};
const extra = (n: number, room: number) => Math.max(0, n - room);
const union = (a: string[], b: string[]) => new Set([...a, ...b]).size;

export function plonkGateCount(nPublic: number, constraints: ReadonlyArray<readonly [Lc, Lc, Lc]>): number {
  let gates = nPublic;
  for (const [a, b, c] of constraints) {
    const A = terms(a);
    const B = terms(b);
    const C = terms(c);
    if ((!A.vars.length && !A.k) || (!B.vars.length && !B.k)) gates += extra(C.vars.length, 3) + 1;
    else if (!A.vars.length) gates += extra(union(B.vars, C.vars), 3) + 1;
    else if (!B.vars.length) gates += extra(union(A.vars, C.vars), 3) + 1;
    else gates += extra(A.vars.length, 1) + extra(B.vars.length, 1) + extra(C.vars.length, 1) + 1;
  }
  return gates;
}

export async function r1csPlonkGates(file: string): Promise<number> {
  const { readR1cs } = await import('r1csfile');
  const r = await readR1cs(file, { loadConstraints: true, loadMap: false, singleThread: true });
  return plonkGateCount(r.nPubInputs + r.nOutputs, r.constraints as never);
}
