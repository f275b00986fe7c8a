import { FIELD_PRIME } from '../receipt/field.js';
import { sha256Hex, signalLayout, VKEY_IO_FIELD } from '../receipt/receipt.js';
import type { ModelIO } from '../receipt/io.js';
import { ZkinferError } from '../errors.js';
import { calldataParams, protocolAbi } from './protocols.js';
import { parseSolidityKey, solidityVerifier } from './verifier.js';

export interface ModelContractOptions {
  /** Name of the model contract; its verifier is named `<name>Verifier`. @defaultValue 'ZkinferModel' */
  readonly name: string;
}

export interface ModelContract {
  /** One Solidity file: the snarkjs verifier, then the model contract. */
  readonly source: string;
  readonly contract: string;
  readonly verifierContract: string;
  /** Whether the model contract has topClass (more than one output). */
  readonly hasTopClass: boolean;
}

/** Functions of the model contract that take verifyProof's arguments unchanged (verifyFor adds the expected input). */
export const MODEL_FUNCTIONS = ['isValid', 'verify', 'topClass', 'provenInput'] as const;
export type ModelFunction = (typeof MODEL_FUNCTIONS)[number];

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The model's contract: verifies a proof and hands other contracts the proven
 * output, decoded.
 *
 * - `verify(...)` returns the quantized outputs as int256 (a field element above
 *   (p-1)/2 is negative) and **reverts with `InvalidProof()`** when the proof
 *   does not verify, so a caller can never act on an unproven output. It says
 *   nothing of which input they are for: a proof for any input verifies.
 * - `verifyFor(..., input)` does the same for the caller's input only: `input`
 *   is the input side of the public signals the caller expects (the packed
 *   quantized inputs, or the Poseidon commitment), and it **reverts with
 *   `InputMismatch()`** when the proof is for another input.
 * - `provenInput(...)` returns that input side of a verified proof, for
 *   callers that look it up rather than compare it.
 * - `isValid(...)` returns false instead of reverting, for callers that branch.
 * - `topClass(...)` (classifiers: more than one output) reverts the same way and
 *   returns the index of the largest output (the first on ties, as zkinfer's
 *   argmax) and its quantized value.
 * - Constants: ONNX_SHA256 and VKEY_SHA256 (the model identity a receipt
 *   names), OUTPUT_SCALE (float output = q / 2^OUTPUT_SCALE), OUTPUT_COUNT,
 *   PUBLIC_SIGNALS and INPUT_HASHED (signal OUTPUT_COUNT is then the Poseidon
 *   commitment to the input; otherwise the quantized inputs follow the outputs).
 *
 * The verifier is deployed by the constructor and called externally: the
 * snarkjs templates end verifyProof with an assembly `return`, which would end
 * an internal caller's whole call. Owning its verifier also binds the contract
 * to this key: no other verifier can be swapped in.
 *
 * The model contract also refuses public signals >= p itself: the PLONK and
 * FFLONK templates reduce them mod p without checking, and a signal's decoded
 * value must be the one that was proven.
 */
export async function modelContract(vkText: string, opts: Partial<ModelContractOptions> = {}): Promise<ModelContract> {
  const name = opts.name ?? 'ZkinferModel';
  if (!IDENT.test(name)) throw new ZkinferError('USAGE', `contract name ${JSON.stringify(name)} is not a Solidity identifier`);
  const vk = parseSolidityKey(vkText);
  const io = vk[VKEY_IO_FIELD] as ModelIO | undefined;
  if (!io || typeof io !== 'object' || !io.output || !io.input) {
    throw new ZkinferError('BUILD_INVALID', 'verification key lacks the zkinfer model interface; a model contract needs its output layout');
  }
  const layout = signalLayout(io);
  if (layout.total !== vk.nPublic) {
    throw new ZkinferError('BUILD_INVALID', `verification key has ${vk.nPublic} public signals, its model interface lays out ${layout.total}`);
  }
  if (!/^[0-9a-f]{64}$/.test(io.onnxSha256)) throw new ZkinferError('BUILD_INVALID', 'verification key names no valid ONNX sha256');
  if (!Number.isInteger(io.output.scale)) throw new ZkinferError('BUILD_INVALID', 'verification key has no integer output scale');

  const abi = protocolAbi(vk.protocol, vk.nPublic);
  const verifierContract = `${name}Verifier`;
  const verifier = solidityVerifier(vkText).replace(new RegExp(`\\bcontract ${abi.contract}\\b`), `contract ${verifierContract}`);
  const params = calldataParams(abi);
  const args = abi.params.map((p) => p.name).join(', ');
  const hasTopClass = layout.outputs > 1;
  const inputSignals = layout.commitment + layout.inputs;
  const vkeySha256 = await sha256Hex(vkText);

  const per = io.input.perSignal ?? 1;
  const inputSide = io.visibility === 'hashed'
    ? 'the Poseidon commitment to the input'
    : per > 1 ? `the quantized inputs packed ${per} to a signal (${layout.inputs} signals; each input minus ${io.input.lo} in ${io.input.bits} bits, first input lowest)` : `the ${layout.inputs} quantized inputs`;
  const contract = `
pragma solidity ^0.8.4;

/// @title zkinfer model ${io.onnxSha256.slice(0, 16)}: ${vk.protocol} proofs of its inference, with the output decoded.
/// @notice Public signals: ${layout.outputs} outputs, then ${inputSide}.
contract ${name} {
    /// The proof does not verify against this model's key and these signals.
    error InvalidProof();
    /// The proof's input signals are not the ones the caller expects: it is for another input.
    error InputMismatch();

    /// sha256 of the ONNX file the circuit was compiled from.
    bytes32 public constant ONNX_SHA256 = 0x${io.onnxSha256};
    /// sha256 of the verification key file (a receipt's model.vkeySha256).
    bytes32 public constant VKEY_SHA256 = 0x${vkeySha256};
    /// Float output = quantized output / 2^OUTPUT_SCALE.
    int256 public constant OUTPUT_SCALE = ${io.output.scale};
    uint256 public constant OUTPUT_COUNT = ${layout.outputs};
    uint256 public constant PUBLIC_SIGNALS = ${vk.nPublic};
    /// Public signals after the outputs: the input side (${io.visibility === 'hashed' ? 'the commitment' : 'the packed inputs'}).
    uint256 public constant INPUT_SIGNALS = ${inputSignals};
    /// True: signal OUTPUT_COUNT is a Poseidon commitment to the input. False: the inputs follow the outputs (see above).
    bool public constant INPUT_HASHED = ${io.visibility === 'hashed'};

    /// BN254 scalar field: every public signal is below it.
    uint256 internal constant P = ${FIELD_PRIME};
    uint256 internal constant HALF = ${(FIELD_PRIME - 1n) / 2n};

    ${verifierContract} public immutable verifier;

    constructor() {
        verifier = new ${verifierContract}();
    }

    /// True iff every signal is canonical (below p) and the proof verifies. Never reverts.
    function isValid(${params}) public view returns (bool) {
        for (uint256 i = 0; i < pubSignals.length; i++) {
            if (pubSignals[i] >= P) return false;
        }
        try verifier.verifyProof(${args}) returns (bool ok) {
            return ok;
        } catch {
            return false;
        }
    }

    /// The proven quantized outputs, as signed integers; reverts InvalidProof() unless the proof verifies.
    function verify(${params}) external view returns (int256[] memory outputs) {
        if (!isValid(${args})) revert InvalidProof();
        outputs = new int256[](OUTPUT_COUNT);
        for (uint256 i = 0; i < OUTPUT_COUNT; i++) outputs[i] = _signed(pubSignals[i]);
    }

    /// As verify, for this input only: reverts InputMismatch() unless the proof's input signals are \`input\`.
    function verifyFor(${params}, uint256[${inputSignals}] calldata input) external view returns (int256[] memory outputs) {
        for (uint256 i = 0; i < INPUT_SIGNALS; i++) {
            if (pubSignals[OUTPUT_COUNT + i] != input[i]) revert InputMismatch();
        }
        if (!isValid(${args})) revert InvalidProof();
        outputs = new int256[](OUTPUT_COUNT);
        for (uint256 i = 0; i < OUTPUT_COUNT; i++) outputs[i] = _signed(pubSignals[i]);
    }

    /// The proven input side of the signals (${io.visibility === 'hashed' ? 'the Poseidon commitment' : 'the packed quantized inputs'}); reverts InvalidProof() unless the proof verifies.
    function provenInput(${params}) external view returns (uint256[] memory input) {
        if (!isValid(${args})) revert InvalidProof();
        input = new uint256[](INPUT_SIGNALS);
        for (uint256 i = 0; i < INPUT_SIGNALS; i++) input[i] = pubSignals[OUTPUT_COUNT + i];
    }
${hasTopClass ? `
    /// Index of the largest proven output (the first on ties) and its quantized value; reverts InvalidProof() unless the proof verifies.
    function topClass(${params}) external view returns (uint256 index, int256 value) {
        if (!isValid(${args})) revert InvalidProof();
        value = _signed(pubSignals[0]);
        for (uint256 i = 1; i < OUTPUT_COUNT; i++) {
            int256 v = _signed(pubSignals[i]);
            if (v > value) (index, value) = (i, v);
        }
    }
` : ''}
    /// The circuit's signed integers live in the field: the upper half is negative.
    function _signed(uint256 v) private pure returns (int256) {
        return v > HALF ? int256(v) - int256(P) : int256(v);
    }
}
`;
  return { source: `${verifier.trimEnd()}\n${contract}`, contract: name, verifierContract, hasTopClass };
}
