import { checkProof } from './proof.js';
import {
  commitInputs, dequantize, elementCount, flattenTensor, fromField, parseCanonical, parseReceipt,
  parseVerificationKey, publicInputSignals, quantizeInput, sha256Hex, signalLayout, toField, PACK_BITS, VKEY_IO_FIELD,
} from '../receipt/index.js';
import type { Receipt } from '../receipt/index.js';
import { isZkinferError } from '../errors.js';

export interface VerifyResult {
  readonly valid: boolean;
  /** Why the receipt was rejected. */
  readonly reason?: string;
  /** What was established, in order. */
  readonly checked: readonly string[];
  /** True when the input itself was disclosed and matched (not just committed). */
  readonly inputDisclosed: boolean;
  /** The quantized input the proof was checked for (public, or hashed and disclosed); null otherwise or when invalid. */
  readonly inputQuantized: readonly string[] | null;
  /** Hashed visibility: the proven Poseidon commitment to the input (decimal); null otherwise or when invalid. */
  readonly commitment: string | null;
}

class Rejected extends Error {}

const SYSTEM_NAMES = Object.freeze({ groth16: 'Groth16', plonk: 'PLONK', fflonk: 'FFLONK' } as const);

/** Parsed keys and their hashes, by key text: a service checks many receipts and inputs per key. */
const keys = new Map<string, { vk: ReturnType<typeof parseVerificationKey>; sha: string }>();
export async function loadKey(text: string) {
  let k = keys.get(text);
  if (!k) {
    k = { vk: parseVerificationKey(text), sha: await sha256Hex(text) };
    if (keys.size >= 32) keys.clear();
    keys.set(text, k);
  }
  return k;
}

const reject = (reason: string): never => {
  throw new Rejected(reason);
};

/**
 * Verifies a receipt against a model's verification key file (its exact
 * bytes: their sha256 is the model identity). Checks that the public signals
 * are canonical and encode exactly the receipt's input (or its commitment) and
 * quantized output, that the float output is that output at the model's
 * scale, that every other field the receipt claims (quantized input, notes,
 * commitment) is the proven one or absent, and that the proof holds. Reports
 * the input (or commitment) checked. Throws only for malformed input.
 */
export async function verifyReceipt(receiptData: unknown, vkeyText: string): Promise<VerifyResult> {
  const receipt: Receipt = parseReceipt(receiptData);
  const { vk, sha: vkeySha256 } = await loadKey(vkeyText);
  const io = vk[VKEY_IO_FIELD];
  const checked: string[] = [];
  let inputDisclosed = false;
  try {
    if (receipt.model.vkeySha256 !== vkeySha256) {
      reject('the receipt names another verification key (sha256 differs): it is for a different model');
    }
    if (receipt.model.onnxSha256 !== io.onnxSha256) reject('the receipt names another ONNX model than this key was made for');
    checked.push('model identity');
    if (vk.protocol !== receipt.system || vk.curve !== 'bn128') reject(`proof system ${receipt.system} does not match the key (${vk.protocol})`);

    const layout = signalLayout(io);
    if (receipt.publicSignals.length !== layout.total || vk.nPublic !== layout.total) {
      reject(`expected ${layout.total} public signals, the receipt has ${receipt.publicSignals.length}`);
    }
    const signals = receipt.publicSignals.map((s, i) => parseCanonical(s) ?? reject(`public signal ${i} is not a canonical field element (a decimal below p)`));
    checked.push('public signals canonical');

    if (receipt.visibility !== io.visibility) reject(`the receipt says input visibility "${receipt.visibility}", the model uses "${io.visibility}"`);
    const outQ = signals.slice(0, layout.outputs).map(fromField);
    if (receipt.outputQuantized.length !== layout.outputs || receipt.outputQuantized.some((v, i) => BigInt(v) !== outQ[i])) {
      reject('quantized output differs from the proven output signals');
    }
    if (receipt.outputScale !== io.output.scale) reject(`output scale ${receipt.outputScale} differs from the model's ${io.output.scale}`);
    if (elementCount(receipt.outputShape) !== layout.outputs || receipt.outputShape.join() !== io.output.shape.join()) {
      reject(`output shape [${receipt.outputShape}] differs from the model's [${io.output.shape}]`);
    }
    let outF: Float64Array;
    try {
      outF = flattenTensor(receipt.output, io.output.shape, 'output');
    } catch (e) {
      return reject(`output: ${(e as Error).message}`);
    }
    outF.forEach((v, i) => {
      if (v !== dequantize(outQ[i], io.output.scale)) reject(`output element ${i} (${v}) is not the proven value ${dequantize(outQ[i], io.output.scale)}`);
    });
    checked.push('output matches proven signals');

    const notes = io.notes ?? [];
    if (receipt.notes.length !== notes.length || receipt.notes.some((n, i) => n !== notes[i])) {
      reject(`the receipt's notes differ from the model interface's (${notes.length ? notes.map((n) => JSON.stringify(n)).join('; ') : 'none'})`);
    }
    checked.push('notes match the model interface');

    const disclosedInput = (): bigint[] => {
      let q: bigint[];
      try {
        q = quantizeInput(io, flattenTensor(receipt.input, io.input.shape, 'input'));
      } catch (e) {
        return reject((e as Error).message);
      }
      return q;
    };
    // The receipt's quantized input must be exactly the proven one its input gives.
    const quantizedIs = (q: readonly bigint[]): void => {
      if (receipt.inputQuantized === null) reject('the input is disclosed but its quantized input is missing');
      if (receipt.inputQuantized!.length !== q.length) reject(`the receipt has ${receipt.inputQuantized!.length} quantized inputs, the model ${q.length}`);
      if (receipt.inputQuantized!.some((v, i) => BigInt(v) !== q[i])) reject('quantized input differs from the proven input');
    };

    let provenInput: bigint[] | null = null;
    let provenCommitment: bigint | null = null;
    if (io.visibility === 'public') {
      const proven = signals.slice(layout.outputs + layout.commitment);
      if (receipt.input === null) reject('the input is missing (it is public for this model)');
      if (receipt.commitment !== null) reject('the receipt carries a commitment, but this model\'s input is public: nothing proves it');
      // Packing is injective only while a pack stays below the field size.
      const per = io.input.perSignal ?? 1;
      if (!Number.isInteger(per) || per < 1 || (per > 1 && per * io.input.bits > PACK_BITS)) reject(`the key packs ${per} inputs of ${io.input.bits} bits to a signal, more than fit`);
      const q = disclosedInput();
      const expected = publicInputSignals(io, q).map(toField);
      if (expected.some((v, i) => v !== proven[i])) reject('input differs from the proven input signals');
      quantizedIs(q);
      provenInput = q;
      inputDisclosed = true;
      checked.push('input matches proven signals');
    } else {
      const c = signals[layout.outputs];
      if (!receipt.commitment) reject('the input commitment is missing (this model proves a commitment to its input)');
      const value = parseCanonical(receipt.commitment!.value) ?? reject('the commitment is not a canonical field element (a decimal below p)');
      if (value !== c) reject('input commitment differs from the proven commitment');
      provenCommitment = c;
      if (receipt.input !== null) {
        if (receipt.commitment!.salt === null) reject('the input is disclosed without the salt needed to check it');
        const salt = parseCanonical(receipt.commitment!.salt) ?? reject('commitment salt is not a canonical field element');
        const q = disclosedInput();
        if ((await commitInputs(io, q, salt)) !== c) reject('input does not match the proven commitment');
        quantizedIs(q);
        provenInput = q;
        inputDisclosed = true;
        checked.push('disclosed input matches the commitment');
      } else {
        if (receipt.inputQuantized !== null) reject('the receipt has a quantized input but no input: an undisclosed input has none');
        if (receipt.commitment!.salt !== null) reject('the receipt has a salt but no input: an undisclosed input has neither');
        checked.push('input committed, not disclosed');
      }
    }

    const name = SYSTEM_NAMES[receipt.system];
    const proof = await checkProof(receipt.system, vkeySha256, vk, signals, receipt.proof);
    if (!proof.valid) reject(`the ${name} proof does not verify against this key and these public signals${proof.reason ? `: ${proof.reason}` : ''}`);
    checked.push(`${name} proof`);
    return {
      valid: true, checked, inputDisclosed,
      inputQuantized: provenInput?.map(String) ?? null,
      commitment: provenCommitment?.toString() ?? null,
    };
  } catch (e) {
    const none = { checked, inputDisclosed, inputQuantized: null, commitment: null };
    if (e instanceof Rejected) return { valid: false, reason: e.message, ...none };
    if (isZkinferError(e)) throw e;
    return { valid: false, reason: `verification error: ${(e as Error).message}`, ...none };
  }
}
