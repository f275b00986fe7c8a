import fs from 'node:fs';
import * as snarkjs from 'snarkjs';
import type { ModelIO } from '../receipt/io.js';
import { VKEY_IO_FIELD } from '../receipt/receipt.js';

/** Writes the verification key with the model's public interface embedded: its hash binds both. */
export async function writeVerificationKey(zkey: string, vkeyOut: string, io: ModelIO): Promise<void> {
  const vk = await snarkjs.zKey.exportVerificationKey(zkey);
  fs.writeFileSync(vkeyOut, `${JSON.stringify({ ...vk, [VKEY_IO_FIELD]: io }, null, 1)}\n`);
}
