import type { GraphNode } from '../onnx/graph.js';
import { ZkinferError } from '../errors.js';

/** Spatial geometry shared by Conv and the pools (2-D, NCHW). */
export interface Window2d {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pads: readonly [number, number, number, number];
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
}

const ints = (n: GraphNode, name: string): number[] | null => {
  const a = n.attrs.get(name);
  return a && a.kind === 'ints' ? a.value : null;
};

export function window2d(node: GraphNode, inShape: readonly number[], kernel?: readonly number[]): Window2d {
  if (inShape.length !== 4) {
    throw new ZkinferError('ONNX_UNSUPPORTED', `${node.opType} node "${node.name}": only 2-D inputs (N, C, H, W) are supported, got [${inShape}]`);
  }
  const autoPad = node.attrs.get('auto_pad');
  const k = kernel ?? ints(node, 'kernel_shape');
  if (!k || k.length !== 2) throw new ZkinferError('ONNX_UNSUPPORTED', `${node.opType} node "${node.name}": needs a 2-D kernel_shape`);
  const strides = ints(node, 'strides') ?? [1, 1];
  const dilations = ints(node, 'dilations') ?? [1, 1];
  const [inH, inW] = [inShape[2], inShape[3]];
  let pads = ints(node, 'pads') ?? [0, 0, 0, 0];
  if (autoPad && autoPad.kind === 'string' && autoPad.value !== 'NOTSET' && autoPad.value !== '') {
    if (autoPad.value === 'VALID') pads = [0, 0, 0, 0];
    else {
      // SAME_UPPER / SAME_LOWER: output = ceil(in / stride).
      const total = [0, 1].map((d) => {
        const inD = d === 0 ? inH : inW;
        const out = Math.ceil(inD / strides[d]);
        return Math.max(0, (out - 1) * strides[d] + (k[d] - 1) * dilations[d] + 1 - inD);
      });
      const lower = autoPad.value === 'SAME_LOWER';
      const half = total.map((t) => (lower ? Math.ceil(t / 2) : Math.floor(t / 2)));
      pads = [half[0], half[1], total[0] - half[0], total[1] - half[1]];
    }
  }
  const ceil = node.attrs.get('ceil_mode');
  if (ceil && ceil.kind === 'int' && ceil.value !== 0) {
    throw new ZkinferError('ONNX_UNSUPPORTED', `${node.opType} node "${node.name}": ceil_mode=1 is not supported`);
  }
  const out = [0, 1].map((d) => {
    const inD = d === 0 ? inH : inW;
    const span = (k[d] - 1) * dilations[d] + 1;
    return Math.floor((inD + pads[d] + pads[d + 2] - span) / strides[d]) + 1;
  });
  if (out[0] <= 0 || out[1] <= 0) {
    throw new ZkinferError('ONNX_INVALID', `${node.opType} node "${node.name}": kernel [${k}] does not fit input [${inShape}]`);
  }
  return {
    kernel: [k[0], k[1]], strides: [strides[0], strides[1]], dilations: [dilations[0], dilations[1]],
    pads: [pads[0], pads[1], pads[2], pads[3]], inH, inW, outH: out[0], outW: out[1],
  };
}

/**
 * Input positions of output (oy, ox)'s window, as [ky, kx, y, x], where
 * y or x is -1 for a position in the padding.
 */
export function windowTaps(w: Window2d, oy: number, ox: number): Array<[number, number, number, number]> {
  const taps: Array<[number, number, number, number]> = [];
  for (let ky = 0; ky < w.kernel[0]; ky++) {
    for (let kx = 0; kx < w.kernel[1]; kx++) {
      const y = oy * w.strides[0] - w.pads[0] + ky * w.dilations[0];
      const x = ox * w.strides[1] - w.pads[1] + kx * w.dilations[1];
      const inside = y >= 0 && y < w.inH && x >= 0 && x < w.inW;
      taps.push([ky, kx, inside ? y : -1, inside ? x : -1]);
    }
  }
  return taps;
}
