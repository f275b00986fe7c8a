/**
 * Structured progress of the long steps: which phase, how far through it
 * (0 to 1), and now and then a message. The CLI draws it, jobs report it;
 * no caller parses log text.
 */
export const PHASES = ['quantize', 'compile', 'ceremony', 'setup', 'witness', 'proof'] as const;
export type Phase = (typeof PHASES)[number];

export interface ProgressEvent {
  readonly phase: Phase;
  /** How far through the phase: 0 when it starts, 1 when it ends. */
  readonly fraction: number;
  readonly message?: string;
}

export type OnProgress = (e: ProgressEvent) => void;

export const NO_PROGRESS: OnProgress = () => {};

/** Share of a whole job each phase stands for, roughly its time on a mid-sized model. */
export const BUILD_WEIGHTS: Readonly<Partial<Record<Phase, number>>> = Object.freeze({ quantize: 0.15, compile: 0.05, ceremony: 0.3, setup: 0.5 });
export const PROVE_WEIGHTS: Readonly<Partial<Record<Phase, number>>> = Object.freeze({ witness: 0.05, proof: 0.95 });

/** A phase's event as the fraction of the whole job done. */
export function overall(weights: Readonly<Partial<Record<Phase, number>>>, e: ProgressEvent): number {
  let before = 0;
  for (const p of PHASES) {
    if (p === e.phase) break;
    before += weights[p] ?? 0;
  }
  const total = Object.values(weights).reduce((s, w) => s + (w ?? 0), 0);
  return Math.min(1, (before + (weights[e.phase] ?? 0) * Math.min(1, Math.max(0, e.fraction))) / total);
}

/**
 * Runs one phase: reports its start and end (with its time), records the
 * time in `timings`, and hands the step a reporter for its own fractions.
 */
export async function runPhase<T>(on: OnProgress, phase: Phase, timings: Record<string, number>, f: (fraction: (x: number, message?: string) => void) => Promise<T> | T): Promise<T> {
  on({ phase, fraction: 0 });
  const t0 = performance.now();
  const r = await f((fraction, message) => on({ phase, fraction, ...(message ? { message } : {}) }));
  timings[phase] = Math.round(performance.now() - t0);
  on({ phase, fraction: 1, message: `done in ${(timings[phase] / 1000).toFixed(2)} s` });
  return r;
}
