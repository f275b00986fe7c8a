import type { Manifest } from '../pipeline/manifest.js';
import type { Phase2Transcript } from '../ceremony/transcript.js';
import { fail, pass, type AuditCheck } from './report.js';

const short = (h: string) => `${h.slice(0, 16)}…`;

/** The proving key's phase-2 contributions against those the manifest records. */
export function phase2Check(system: Manifest['system'], transcript: Phase2Transcript, recorded: Manifest['ceremony']['phase2']): AuditCheck {
  const found = transcript.contributions;
  if (system !== 'groth16') {
    return found.length === 0 && recorded.length === 0
      ? pass('phase2', `${system}: no circuit-specific phase 2 (the keys follow from the r1cs and the powers of tau alone)`)
      : fail('phase2', `${system} keys have no phase 2, yet the manifest records ${recorded.length} contribution(s)`);
  }
  const problems: string[] = [];
  if (found.length !== recorded.length) problems.push(`the proving key holds ${found.length} contribution(s), the manifest records ${recorded.length}`);
  for (let i = 0; i < Math.min(found.length, recorded.length); i++) {
    const f = found[i];
    const r = recorded[i];
    if (f.hash !== r.hash) problems.push(`#${i + 1} hash ${short(f.hash)} in the key, ${short(r.hash)} in the manifest`);
    if (f.name !== r.name) problems.push(`#${i + 1} named "${f.name}" in the key, "${r.name}" in the manifest`);
    if (f.kind !== r.kind) problems.push(`#${i + 1} is a ${f.kind} in the key, a ${r.kind} in the manifest`);
  }
  if (found.length === 0) problems.push('no phase-2 contribution: whoever ran the setup need not have added any secret of their own');
  return problems.length
    ? fail('phase2', problems.join('; '))
    : pass('phase2', `${found.length} contribution(s), names and hashes as the manifest records them`);
}
