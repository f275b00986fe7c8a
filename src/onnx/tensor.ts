import type { ConstTensor } from './graph.js';
import { elementsOf, LimitExceededError } from './limits.js';
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
  /** 1: the values live in a separate file (ONNX external data). */
  dataLocation?: number | null;
}

const DT_FLOAT = 1;
const DT_INT32 = 6;
const DT_INT64 = 7;
const DT_DOUBLE = 11;
const DATA_EXTERNAL = 1;

export const toNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(String(v)));

/** Bytes per element in raw_data and the typed field holding the values otherwise. */
const STORAGE: Readonly<Record<number, { width: number; field: 'floatData' | 'doubleData' | 'int32Data' | 'int64Data' }>> = Object.freeze({
  [DT_FLOAT]: { width: 4, field: 'floatData' },
  [DT_DOUBLE]: { width: 8, field: 'doubleData' },
  [DT_INT32]: { width: 4, field: 'int32Data' },
  [DT_INT64]: { width: 8, field: 'int64Data' },
});

/**
 * Decodes an ONNX tensor (raw or typed storage) into float64 values.
 * The declared dims are checked against the data actually present, and
 * against `maxElements`, before anything is allocated: a file of a few
 * bytes may declare billions of elements.
 */
export function decodeTensor(t: TensorProtoLike, maxElements = Number.MAX_SAFE_INTEGER): ConstTensor {
  const label = `tensor "${t.name ?? ''}"`;
  const dims = Array.from(t.dims ?? [], toNumber);
  const n = elementsOf(dims, label);
  const dt = t.dataType ?? 0;
  const storage = STORAGE[dt];
  if (!storage) {
    throw new ZkinferError('ONNX_UNSUPPORTED', `${label} has ONNX data type ${dt}; only float, double, int32 and int64 constants are supported`);
  }
  if (t.dataLocation === DATA_EXTERNAL) {
    throw new ZkinferError('ONNX_UNSUPPORTED', `${label} keeps its data in an external file; save the model with its weights inside the ONNX file`);
  }
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const typed = t[storage.field];
  const typedLength = typed?.length ?? 0;
  if (raw) {
    if (raw.byteLength !== n * storage.width) {
      throw new ZkinferError('ONNX_MALFORMED', `${label} holds ${raw.byteLength} bytes, expected ${n * storage.width} for dims [${dims}]`);
    }
  } else if (typedLength !== n) {
    throw new ZkinferError('ONNX_MALFORMED', typedLength === 0
      ? `${label} declares dims [${dims}] (${n} elements) but holds no data`
      : `${label} holds ${typedLength} values, expected ${n} for dims [${dims}]`);
  }
  if (n > maxElements) throw new LimitExceededError('ONNX_TOO_LARGE', 'maxTensorElements', n, maxElements, `${label} (dims [${dims}]) has too many elements`);

  const out = new Float64Array(n);
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (dt) {
      case DT_FLOAT: for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true); break;
      case DT_DOUBLE: for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true); break;
      case DT_INT32: for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true); break;
      default: for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(i * 8, true));
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = toNumber(typed![i]);
  }
  // A NaN or infinite weight has no fixed-point value.
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i])) throw new ZkinferError('ONNX_MALFORMED', `${label} value ${i} is ${out[i]}; expected a finite number`);
  }
  return dt === DT_INT32 || dt === DT_INT64 ? { dims, data: out, int: true } : { dims, data: out };
}
