import { PHASES } from '../progress.js';
/** The API's OpenAPI description, served at /openapi.json. */
const error = { $ref: '#/components/schemas/Error' };
const json = (schema: object) => ({ 'application/json': { schema } });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { description: 'error', content: json(error) }]));

export const OPENAPI = Object.freeze({
  openapi: '3.0.3',
  info: {
    title: 'zkinfer',
    version: '0.1.0',
    description: 'Zero-knowledge proofs of ONNX model inference. Upload a model, request proofs of its outputs, verify receipts.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } } },
      JobError: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
      JobStatus: { type: 'string', enum: ['queued', 'compiling', 'witness', 'proving', 'done', 'failed'] },
      Receipt: { type: 'object', description: 'zkinfer-receipt/1: output, outputQuantized, outputScale, input (or null), inputQuantized, commitment, proof, publicSignals, system, model {onnxSha256, vkeySha256}' },
      Model: {
        type: 'object',
        properties: {
          id: { type: 'string' }, name: { type: 'string' }, visibility: { type: 'string', enum: ['private', 'public'] }, status: { $ref: '#/components/schemas/JobStatus' }, phase: { type: 'string', enum: [...PHASES], description: 'the pipeline phase running now (absent when not running)' }, progress: { type: 'number', minimum: 0, maximum: 1, description: 'share of the job done' }, error: { $ref: '#/components/schemas/JobError' },
          manifest: { type: 'object', description: 'ops, scales, constraints per layer, ceremony kind, input range' },
          keys: { type: 'object', properties: { onnxSha256: { type: 'string' }, vkeySha256: { type: 'string' } } },
        },
      },
      Proof: {
        type: 'object',
        properties: { id: { type: 'string' }, model: { type: 'string' }, status: { $ref: '#/components/schemas/JobStatus' }, phase: { type: 'string', enum: [...PHASES], description: 'the pipeline phase running now (absent when not running)' }, progress: { type: 'number', minimum: 0, maximum: 1, description: 'share of the job done' }, attempts: { type: 'integer' }, error: { $ref: '#/components/schemas/JobError' }, receipt: { $ref: '#/components/schemas/Receipt' }, timings: { type: 'object' } },
      },
    },
  },
  paths: {
    '/v1/models': {
      post: {
        summary: 'Upload an ONNX model with calibration data; starts a compile job',
        security: [{ bearer: [] }],
        requestBody: {
          required: true,
          content: json({
            type: 'object', required: ['onnx', 'calibration'],
            properties: {
              name: { type: 'string' },
              onnx: { type: 'string', format: 'byte', description: 'the ONNX file, base64' },
              calibration: { description: 'array of sample inputs, or {calibration: [...]} with no other field' },
              visibility: { type: 'string', enum: ['private', 'public'], default: 'private', description: 'who may use the model: its uploader only, or every key (listed, provable; its key readable by anyone)' },
              options: { type: 'object', properties: { visibility: { type: 'string', enum: ['public', 'hashed'] }, inputRange: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 }, activationBits: { type: 'integer' }, weightBits: { type: 'integer' }, system: { type: 'string', enum: ['groth16', 'plonk', 'fflonk'] } } },
            },
          }),
        },
        responses: { 202: { description: 'accepted', content: json({ type: 'object', properties: { id: { type: 'string' }, status: { $ref: '#/components/schemas/JobStatus' } } }) }, ...errors(400, 401, 413, 422, 429, 503) },
      },
      get: { summary: 'List the caller\'s models and the public ones', security: [{ bearer: [] }], responses: { 200: { description: 'models', content: json({ type: 'object', properties: { models: { type: 'array', items: { $ref: '#/components/schemas/Model' } } } }) }, ...errors(401, 429) } },
    },
    '/v1/models/{id}': {
      get: { summary: 'Model status, manifest and key hashes (a private model: its owner\'s key only; 404 for anyone else)', security: [{}, { bearer: [] }], parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'model', content: json({ $ref: '#/components/schemas/Model' }) }, ...errors(404) } },
    },
    '/v1/models/{id}/verification-key': {
      get: { summary: 'The verification key (snarkjs format for the model\'s proof system, with the model interface embedded); a private model: its owner\'s key only', security: [{}, { bearer: [] }], parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'verification key' }, ...errors(404, 409) } },
    },
    '/v1/models/{id}/verifier.sol': {
      get: {
        summary: 'Solidity source: the snarkjs verifier for the model\'s key and the model contract that verifies a proof and returns the decoded outputs (contract=model, the default), or the verifier alone (contract=verifier)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'contract', in: 'query', required: false, schema: { type: 'string', enum: ['model', 'verifier'] } }],
        responses: { 200: { description: 'Solidity source', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors(400, 404, 409) },
      },
    },
    '/v1/proofs': {
      post: {
        summary: 'Request a proof of one inference',
        security: [{ bearer: [] }],
        requestBody: { required: true, content: json({ type: 'object', required: ['model', 'input'], properties: { model: { type: 'string' }, input: { description: 'nested array in the model input shape' }, disclose: { type: 'boolean', default: true }, webhook: { type: 'string', format: 'uri', description: 'called once with the proof when it is done or failed; refused (400 WEBHOOK_REFUSED) unless its host is or resolves to global addresses only, or the operator allows it' } } }) },
        responses: { 202: { description: 'accepted', content: json({ type: 'object', properties: { id: { type: 'string' }, status: { $ref: '#/components/schemas/JobStatus' } } }) }, ...errors(400, 401, 404, 409, 413, 422, 429, 503) },
      },
    },
    '/v1/proofs/{id}': {
      get: {
        summary: 'Proof status; the receipt when done. Only the key that asked for the proof may read it (404 for others).',
        security: [{ bearer: [] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'wait', in: 'query', schema: { type: 'number', minimum: 0, maximum: 60 }, description: 'long-poll up to this many seconds for the job to end' }],
        responses: { 200: { description: 'proof', content: json({ $ref: '#/components/schemas/Proof' }) }, ...errors(400, 401, 404) },
      },
    },
    '/v1/verify': {
      post: {
        summary: 'Verify a receipt, or a proof and public signals for a model. Open to anyone (rate limited per client IP). Only verification keys of models this service compiled are used, unless the caller brings its own (keySource "caller").',
        requestBody: { required: true, content: json({ oneOf: [{ type: 'object', required: ['receipt'], properties: { receipt: { $ref: '#/components/schemas/Receipt' }, verificationKey: { description: 'the caller\'s verification key: its exact text, or the JSON' } } }, { type: 'object', required: ['proof', 'publicSignals', 'model'], properties: { proof: { type: 'object' }, publicSignals: { type: 'array', items: { type: 'string' } }, model: { type: 'string' } } }] }) },
        responses: { 200: { description: 'result', content: json({
          type: 'object',
          properties: {
            valid: { type: 'boolean' }, reason: { type: 'string' }, keySource: { type: 'string', enum: ['registry', 'caller'] },
            against: { type: 'object', description: 'what was verified against (null where unknown)', properties: { model: { type: 'string', nullable: true }, onnxSha256: { type: 'string', nullable: true }, vkeySha256: { type: 'string' }, system: { type: 'string', nullable: true }, ceremony: { type: 'string', nullable: true } } },
          },
        }) }, ...errors(400, 404, 413, 429) },
      },
    },
    '/v1/keys/{sha256}': {
      get: {
        summary: 'A verification key by the sha256 of its bytes (the model identity). Open to anyone; only keys of models this service compiled are served, never other artifacts. Check the hash of what you get.',
        parameters: [{ name: 'sha256', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } }],
        responses: { 200: { description: 'the verification key file, byte for byte (JSON with the model interface in its zkinfer field)', content: json({ type: 'object' }) }, ...errors(400, 404) },
      },
    },
    '/v1/keys/{sha256}/model': {
      get: {
        summary: 'What this service knows of a registered verification key: its model id, ONNX sha256, proof system, ceremony kind and the trust level its build recorded (not checked here: zkinfer audit checks it). Open to anyone.',
        parameters: [{ name: 'sha256', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } }],
        responses: {
          200: {
            description: 'the registered model',
            content: json({
              type: 'object',
              properties: {
                model: { type: 'string' }, onnxSha256: { type: 'string' }, vkeySha256: { type: 'string' }, system: { type: 'string' }, ceremony: { type: 'string' },
                recordedTrust: { type: ['object', 'null'], properties: { level: { type: 'string' }, canForge: { type: 'string' }, checked: { type: 'boolean', enum: [false] }, note: { type: 'string' } } },
              },
            }),
          },
          ...errors(400, 404),
        },
      },
    },
    '/verify': {
      get: {
        summary: 'A page that verifies receipts in the browser (drop, paste or choose a receipt); the key is fetched by hash from /v1/keys/{sha256} and hashed again, or supplied by the user. Nothing is sent to /v1/verify.',
        responses: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    '/v1/artifacts/{hash}': {
      get: { summary: 'A build artifact by sha256, for workers: the worker token only (client keys get 403)', security: [{ bearer: [] }], responses: { 200: { description: 'bytes' }, ...errors(401, 403, 404) } },
      put: { summary: 'Store a build artifact (workers only); the body must hash to the id', security: [{ bearer: [] }], responses: { 201: { description: 'stored' }, ...errors(400, 401, 403) } },
    },
    '/healthz': { get: { summary: 'Liveness: Redis reachable and live workers', responses: { 200: { description: 'ok' }, 503: { description: 'Redis unreachable, or no live worker' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics: jobs by state, queue depth, phase durations', responses: { 200: { description: 'text exposition format' } } } },
  },
});
