import { ZkinferError } from '../errors.js';

/**
 * For each element of `target` (row-major), the flat index into a tensor of
 * shape `src` broadcast to it (numpy rules).
 */
export function broadcastIndex(src: readonly number[], target: readonly number[], node: string): Int32Array {
  if (src.length > target.length) {
    throw new ZkinferError('ONNX_INVALID', `node "${node}": cannot broadcast [${src}] to [${target}]`);
  }
  const s = [...Array(target.length - src.length).fill(1), ...src];
  s.forEach((d, i) => {
    if (d !== 1 && d !== target[i]) throw new ZkinferError('ONNX_INVALID', `node "${node}": cannot broadcast [${src}] to [${target}]`);
  });
  const n = target.reduce((a, b) => a * b, 1);
  const out = new Int32Array(n);
  const strides = new Array(s.length).fill(0);
  let st = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    strides[i] = s[i] === 1 ? 0 : st;
    st *= s[i];
  }
  for (let f = 0; f < n; f++) {
    let rem = f;
    let idx = 0;
    for (let i = target.length - 1; i >= 0; i--) {
      const c = rem % target[i];
      rem = Math.floor(rem / target[i]);
      idx += c * strides[i];
    }
    out[f] = idx;
  }
  return out;
}
