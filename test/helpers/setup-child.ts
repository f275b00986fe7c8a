/**
 * Runs groth16Setup in its own process (argv: r1cs ptau zkey vkey), so a
 * test can set ZKINFER_NATIVE for it; prints which path ran and the result.
 */
import { groth16Setup } from '../../src/setup/groth16.js';
import { nativeBn254 } from '../../src/prove/native.js';
import type { ModelIO } from '../../src/receipt/io.js';

const [r1cs, ptau, zkey, vkey] = process.argv.slice(2);
const io = { onnxSha256: '0'.repeat(64) } as unknown as ModelIO;
const r = await groth16Setup(r1cs, ptau, zkey, vkey, io);
process.stdout.write(`${JSON.stringify({ native: nativeBn254() !== null, ...r })}\n`);
process.exit(0);
