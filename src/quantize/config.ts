import type { InputVisibility } from '../receipt/io.js';
import { ZkinferError } from '../errors.js';

export interface QuantizeOptions {
  /**
   * Bits of precision for activations: each tensor's scale is chosen so its
   * largest calibration value reaches about 2^activationBits.
   * @defaultValue 10
   */
  readonly activationBits: number;
  /**
   * Bits of each weight, sign included: a layer's weight scale puts its
   * largest weight near 2^(weightBits-1).
   * @defaultValue 10
   */
  readonly weightBits: number;
  /**
   * Float input range; null takes it from the calibration data widened by
   * `rangeMargin` on each side (not below 0 when no sample is negative).
   * @defaultValue null
   */
  readonly inputRange: readonly [number, number] | null;
  /** @defaultValue 0.1 */
  readonly rangeMargin: number;
  /** @defaultValue 'public' */
  readonly visibility: InputVisibility;
  /**
   * Search the precision ladder for the cheapest bits that keep the float
   * model's top class and outputs on the calibration set; off when bits are
   * given explicitly.
   * @defaultValue true
   */
  readonly autoPrecision: boolean;
}

export const QUANTIZE_DEFAULTS: Readonly<QuantizeOptions> = Object.freeze({
  activationBits: 10,
  weightBits: 10,
  inputRange: null,
  rangeMargin: 0.1,
  visibility: 'public',
  autoPrecision: true,
});

export function quantizeOptions(partial: Partial<QuantizeOptions> = {}): QuantizeOptions {
  const explicit = partial.activationBits !== undefined || partial.weightBits !== undefined;
  const o = { ...QUANTIZE_DEFAULTS, autoPrecision: !explicit, ...partial };
  const intIn = (name: string, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new ZkinferError('USAGE', `${name} must be an integer in [${lo}, ${hi}], got ${v}`);
    }
  };
  intIn('activationBits', o.activationBits, 2, 24);
  intIn('weightBits', o.weightBits, 2, 24);
  if (o.inputRange) {
    const [lo, hi] = o.inputRange;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo >= hi) {
      throw new ZkinferError('USAGE', `input range must be two finite numbers LO < HI, got ${lo},${hi}`);
    }
  }
  if (!(o.rangeMargin >= 0 && o.rangeMargin <= 10)) throw new ZkinferError('USAGE', `rangeMargin must be in [0, 10], got ${o.rangeMargin}`);
  if (o.visibility !== 'public' && o.visibility !== 'hashed') {
    throw new ZkinferError('USAGE', `visibility must be "public" or "hashed", got "${o.visibility}"`);
  }
  return Object.freeze(o);
}
