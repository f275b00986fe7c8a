import { nativeBn254, nativeUnavailableReason } from './native.js';

/** Which Groth16 kernels this process runs, and why: native, or WebAssembly with the reason. */
export const proverKernels = (): string => (nativeBn254() ? 'native' : `WebAssembly (${nativeUnavailableReason()})`);
