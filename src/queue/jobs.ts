import { BUILD_WEIGHTS, overall, PROVE_WEIGHTS, type Phase, type ProgressEvent } from '../progress.js';
import type { TrustVerdict } from '../pipeline/trust.js';
import type { QuantizeOptions } from '../quantize/config.js';
import type { ProofSystem, Receipt } from '../receipt/receipt.js';

/** Queue names: every Redis key BullMQ makes is under these. */
export const QUEUES = Object.freeze({ compile: 'zkinfer-compile', prove: 'zkinfer-prove' });
export const QUEUE_PREFIX = 'zkinfer';

/** The build files a model's proofs need, by content hash. */
export const ARTIFACT_FILES = ['onnx', 'program', 'manifest', 'r1cs', 'zkey', 'vkey'] as const;
export type ArtifactName = (typeof ARTIFACT_FILES)[number];
export type Artifacts = Record<ArtifactName, string>;

export interface CompileJobData {
  modelId: string;
  name: string;
  onnx: string;
  calibration: string;
  options: Partial<QuantizeOptions> & { system?: ProofSystem };
  /** Key id of the API key that uploaded it (absent in records older than tenants: those count as public). */
  owner?: string;
  /** 'private': its owner only; 'public': listed and provable by every key. */
  visibility?: 'private' | 'public';
}

export interface CompileResult {
  artifacts: Artifacts;
  summary: ModelSummary;
}

/** What the API shows of a compiled model. */
export interface ModelSummary {
  onnxSha256: string;
  vkeySha256: string;
  system: ProofSystem;
  ops: readonly string[];
  constraints: { total: number; layers: readonly { op: string; node: string; constraints: number }[] };
  scales: readonly { tensor: string; role: string; scale: number; reason: string }[];
  ceremony: { kind: string; power: number; note: string };
  /** Who could forge proofs for this key, as judged when it was built (only `zkinfer audit` checks it). */
  trust?: TrustVerdict;
  io: { inputShape: readonly number[]; outputShape: readonly number[]; visibility: string; inputRange: readonly [number, number] };
}

export interface ProveJobData {
  modelId: string;
  artifacts: Artifacts;
  input: unknown;
  disclose: boolean;
  webhook: string | null;
  /** Key id of the API key that asked: the only one that may read the job. */
  owner?: string;
  /** When the API accepted the request, for queue overhead metrics. */
  acceptedAt: number;
}

export interface ProveResult {
  receipt: Receipt;
  timings: { witness: number; prove: number; total: number };
}

/** Job states as the API reports them. */
export type JobStatus = 'queued' | 'compiling' | 'witness' | 'proving' | 'done' | 'failed';

/** What a running job reports: its state, the pipeline phase within it, and the share of the job done (0 to 1). */
export interface JobProgress {
  status: JobStatus;
  phase: Phase | null;
  progress: number;
}

export type ReportProgress = (p: JobProgress) => void;

/** A pipeline progress event as a job's progress. */
export function jobProgress(e: ProgressEvent): JobProgress {
  const prove = e.phase === 'witness' || e.phase === 'proof';
  return { status: e.phase === 'witness' ? 'witness' : e.phase === 'proof' ? 'proving' : 'compiling', phase: e.phase, progress: overall(prove ? PROVE_WEIGHTS : BUILD_WEIGHTS, e) };
}
