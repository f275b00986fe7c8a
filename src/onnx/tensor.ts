import type { ConstTensor } from './graph.js';
import { ZkinferError } from '../errors.js';

/** Minimal view of onnx.TensorProto fields we read. */
export interface TensorProtoLike {
  name?: string | null;
  dims?: ArrayLike<unknown> | null;
  dataType?: number | null;
  rawData?: Uint8Array | null;
  floatData?: ArrayLike<number> | null;
  doubleData?: ArrayLike<number> | null;
  int32Data?: ArrayLike<number> | null;
  int64Data?: ArrayLike<unknown> | null;
}

const DT_FLOAT = 1;
const DT_INT32 = 6;
const DT_INT64 = 7;
const DT_DOUBLE = 11;

export const toNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(String(v)));

/** Decodes an ONNX tensor (raw or typed storage) into float64 values. */
export function decodeTensor(t: TensorProtoLike): ConstTensor {
  const dims = Array.from(t.dims ?? [], toNumber);
  const n = dims.reduce((a, b) => a * b, 1);
  const dt = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const out = new Float64Array(n);
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const need = (bytes: number) => {
    if (view && view.byteLength !== n * bytes) {
      throw new ZkinferError('ONNX_MALFORMED', `tensor "${t.name}" holds ${view.byteLength} bytes, expected ${n * bytes} for dims [${dims}]`);
    }
  };
  switch (dt) {
    case DT_FLOAT:
      need(4);
      for (let i = 0; i < n; i++) out[i] = view ? view.getFloat32(i * 4, true) : toNumber(t.floatData![i]);
      break;
    case DT_DOUBLE:
      need(8);
      for (let i = 0; i < n; i++) out[i] = view ? view.getFloat64(i * 8, true) : toNumber(t.doubleData![i]);
      break;
    case DT_INT32:
      need(4);
      for (let i = 0; i < n; i++) out[i] = view ? view.getInt32(i * 4, true) : toNumber(t.int32Data![i]);
      break;
    case DT_INT64:
      need(8);
      for (let i = 0; i < n; i++) out[i] = view ? Number(view.getBigInt64(i * 8, true)) : toNumber(t.int64Data![i]);
      break;
    default:
      throw new ZkinferError('ONNX_UNSUPPORTED', `tensor "${t.name}" has ONNX data type ${dt}; only float, double, int32 and int64 constants are supported`);
  }
  if (!view && n > 0) {
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i])) {
        throw new ZkinferError('ONNX_MALFORMED', `tensor "${t.name}" is missing data for dims [${dims}]`);
      }
    }
  }
  return { dims, data: out };
}
