import fs from 'node:fs';
import type { Graph } from '../onnx/graph.js';
import { collectStats, parseCalibration, recordFromSamples } from '../quantize/index.js';
import { buildPath } from '../paths.js';
import { sha256 } from '../hash.js';
import type { AuditedBuild } from './build.js';
import { jsonDiff } from './compare.js';
import { fail, pass, type AuditCheck } from './report.js';

const short = (h: string) => `${h.slice(0, 16)}…`;

/** Calibration samples an audit recomputes from: the auditor's file, else the ones the build kept. */
export interface SamplesSource {
  readonly data: unknown;
  readonly source: string;
}

/** The auditor's samples, or the build's calibration-samples.json (checked against the manifest's sha256). */
export function keptSamples(b: AuditedBuild): { source: SamplesSource | null; problem: string | null } {
  const f = buildPath(b.dir, 'calibrationSamples');
  const rec = b.manifest.calibrationSamples;
  if (!fs.existsSync(f)) return { source: null, problem: null };
  const text = fs.readFileSync(f, 'utf8');
  if (!rec || sha256(text) !== rec.sha256) {
    return { source: null, problem: `calibration-samples.json has sha256 ${short(sha256(text))}, the manifest recorded ${rec ? short(rec.sha256) : 'none'}: it was changed after the build` };
  }
  try {
    return { source: { data: JSON.parse(text), source: "the build's calibration-samples.json" }, problem: null };
  } catch (e) {
    return { source: null, problem: `calibration-samples.json: ${(e as Error).message}` };
  }
}

/**
 * Recomputes calibration from the samples (onnxruntime on the ONNX file, the
 * manifest's activation bits) and requires the recorded one: calibration is
 * a deterministic function of the ONNX file, the samples and the options, so
 * a record edited after the fact (an exact input scale, a widened range)
 * shows here even when the circuit was recompiled to match it.
 */
export async function samplesCheck(b: AuditedBuild, onnx: Uint8Array, graph: Graph, recorded: unknown, s: SamplesSource): Promise<{ check: AuditCheck; samples: Float64Array[] | null }> {
  let samples: Float64Array[];
  try {
    samples = parseCalibration(s.data, graph.input.shape);
  } catch (e) {
    return { check: fail('samples', `${s.source}: ${(e as Error).message}`), samples: null };
  }
  const stats = await collectStats(onnx, graph, samples);
  const again = recordFromSamples(stats, samples, b.manifest.options.activationBits);
  const diff = jsonDiff(again, recorded);
  if (diff.length === 0) {
    return { check: pass('samples', `calibration recomputed from ${s.source} (${samples.length} samples, onnxruntime) equals calibration.json`), samples };
  }
  return { check: fail('samples', `calibration recomputed from ${s.source} (${samples.length} samples) differs from calibration.json (recomputed vs recorded): ${diff.join(', ')}`), samples };
}
