import { NO_PROGRESS, type OnProgress } from '../progress.js';
import fs from 'node:fs';
import path from 'node:path';
import type { ArtifactStore } from '../store/store.js';
import type { CompileJobData, CompileResult } from '../queue/jobs.js';
import { buildModel, recordedTrust, MANIFEST_FORMAT } from '../pipeline/index.js';
import { storeBuild } from './materialize.js';
import { ZkinferError } from '../errors.js';

/** Compiles an uploaded model: quantize, circuit, keys; artifacts go to the store. */
export async function runCompileJob(data: CompileJobData, store: ArtifactStore, workDir: string, progress: OnProgress = NO_PROGRESS): Promise<CompileResult> {
  // A model compiled before (same ONNX, calibration and options, same build format) is reused.
  const index = path.join(workDir, 'compiled', MANIFEST_FORMAT.replace('/', '-'), `${data.modelId}.json`);
  if (fs.existsSync(index)) {
    const prior = JSON.parse(fs.readFileSync(index, 'utf8')) as CompileResult;
    const present = await Promise.all(Object.values(prior.artifacts).map((h) => store.has(h)));
    if (present.every(Boolean)) return prior;
  }
  const result = await compile(data, store, workDir, progress);
  fs.mkdirSync(path.dirname(index), { recursive: true });
  fs.writeFileSync(index, JSON.stringify(result));
  return result;
}

async function compile(data: CompileJobData, store: ArtifactStore, workDir: string, progress: OnProgress): Promise<CompileResult> {
  const onnx = await store.get(data.onnx);
  const calibration = await store.get(data.calibration);
  if (!onnx || !calibration) throw new ZkinferError('ARTIFACT_CORRUPT', `model ${data.modelId}: its upload is missing from the artifact store`);
  const dir = path.join(workDir, data.modelId);
  fs.rmSync(dir, { recursive: true, force: true });
  const m = await buildModel(onnx, JSON.parse(calibration.toString('utf8')), dir, data.options, progress);
  const artifacts = await storeBuild(store, dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    artifacts,
    summary: {
      onnxSha256: m.onnx.sha256,
      vkeySha256: m.keys.vkeySha256,
      system: m.system,
      ops: m.onnx.ops,
      constraints: { total: m.constraints.total, layers: m.constraints.layers.map((l) => ({ op: l.op, node: l.node, constraints: l.constraints })) },
      scales: m.scales,
      ceremony: { kind: m.ceremony.kind, power: m.ceremony.power, note: m.ceremony.note },
      trust: recordedTrust(m),
      io: { inputShape: m.io.input.shape, outputShape: m.io.output.shape, visibility: m.io.visibility, inputRange: m.inputRange.accepted },
    },
  };
}
