export interface R1csInfo {
  nConstraints: number;
  nPubInputs: number;
  nOutputs: number;
  nVars: number;
}

/** Header counts of an r1cs file. */
export async function readR1csInfo(file: string): Promise<R1csInfo> {
  const { readR1cs } = await import('r1csfile');
  const r = await readR1cs(file, { loadConstraints: false, loadMap: false });
  return { nConstraints: r.nConstraints, nPubInputs: r.nPubInputs, nOutputs: r.nOutputs, nVars: r.nVars };
}
