import type { ModelIO } from '../receipt/io.js';
import { fail, pass, type AuditCheck } from './report.js';
import { jsonDiff } from './compare.js';

/** The model interface in the verification key against the re-derived program's. */
export function interfaceCheck(inKey: ModelIO, derived: ModelIO): AuditCheck {
  const diff = jsonDiff(inKey, derived);
  return diff.length
    ? fail('interface', `the verification key's model interface differs from the re-derived one (key vs re-derived): ${diff.join(', ')}`)
    : pass('interface', "the model interface in the verification key equals the re-derived program's (ONNX sha256, visibility, shapes, scales, input range)");
}
