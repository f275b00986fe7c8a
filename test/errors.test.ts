/**
 * Every error code keeps its meaning at every boundary: the HTTP status the
 * API answers, the CLI's exit code and the queue's retry decision all come
 * from one table, and a corrupt file never surfaces as an anonymous internal error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { UnrecoverableError } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CLASSES, ERROR_CODES, ZkinferError, fileError, type ErrorCode } from '../src/errors.js';
import { errorHandler } from '../src/server/http-error.js';
import { exitCodeOf, EXIT } from '../src/cli/exit.js';
import { decodeFailure, encodeFailure, failureOf, toQueueError } from '../src/queue/failure.js';
import { queueError } from '../src/queue/redis-errors.js';
import { ensureBuild, fixture, loadJson } from './helpers/builds.js';
import { runCli } from './helpers/cli.js';

let url: string;
let server: import('node:http').Server;

beforeAll(async () => {
  const app = express();
  app.get('/throw/:code', (req) => {
    throw new ZkinferError(req.params.code as ErrorCode, `failure ${req.params.code}`);
  });
  app.get('/plain', () => {
    throw new Error('secret internals at /srv/x.js:12');
  });
  app.get('/redis-down', () => {
    throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
  });
  app.use(errorHandler(() => {}));
  await new Promise<void>((r) => (server = app.listen(0, '127.0.0.1', () => r())));
  const a = server.address() as import('node:net').AddressInfo;
  url = `http://127.0.0.1:${a.port}`;
});
afterAll(() => server?.close());

describe('one error table', () => {
  it('walks every error code through the HTTP mapping, the CLI exit mapping and the queue retry decision', async () => {
    expect(ERROR_CODES.length).toBeGreaterThanOrEqual(20);
    for (const code of ERROR_CODES) {
      const c = ERROR_CLASSES[code];
      const e = new ZkinferError(code, `failure ${code}`);
      // HTTP: the table's status, the code and the message; never a stack.
      const r = await fetch(`${url}/throw/${code}`);
      expect(r.status, code).toBe(c.http);
      expect(await r.json(), code).toEqual({ error: { code, message: `failure ${code}` } });
      // CLI: 2 exactly when the caller is at fault (HTTP 4xx).
      expect(exitCodeOf(e), code).toBe(c.exit);
      expect(c.exit === EXIT.usage, code).toBe(c.http < 500);
      expect(e.userFault, code).toBe(c.http < 500);
      // Queue: unrecoverable unless retryable, and the code survives the text reason.
      const q = toQueueError(e);
      expect(q instanceof UnrecoverableError, code).toBe(!c.retry);
      expect(decodeFailure(q.message), code).toEqual({ code, message: `failure ${code}` });
      // The caller's mistakes are never retried.
      if (c.http < 500) expect(c.retry, code).toBe(false);
    }
  });

  it('internal failures are not the caller\'s fault: setup, compile, witness and lost workers answer 5xx and exit 1', () => {
    for (const code of ['SETUP_FAILED', 'COMPILE_FAILED', 'WITNESS_FAILED', 'WORKER_LOST', 'INTERNAL', 'ARTIFACT_CORRUPT', 'QUEUE_UNAVAILABLE', 'JOB_TIMEOUT'] as const) {
      expect(ERROR_CLASSES[code].http, code).toBeGreaterThanOrEqual(500);
      expect(new ZkinferError(code, 'x').userFault, code).toBe(false);
    }
    expect(ERROR_CLASSES.SETUP_FAILED.retry).toBe(true);
    expect(ERROR_CLASSES.WORKER_LOST.retry).toBe(true);
  });

  it('a plain error answers 500 "internal error" without its text; a Redis that is down answers 503 QUEUE_UNAVAILABLE', async () => {
    const plain = await fetch(`${url}/plain`);
    expect(plain.status).toBe(500);
    expect(await plain.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    const down = await fetch(`${url}/redis-down`);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect((await down.json()).error.code).toBe('QUEUE_UNAVAILABLE');
    expect((queueError(new Error('Connection is closed.')) as ZkinferError).code).toBe('QUEUE_UNAVAILABLE');
    expect(queueError(new Error('WRONGTYPE Operation against a key'))).toBeInstanceOf(Error);
    expect(queueError(new Error('WRONGTYPE Operation against a key'))).not.toBeInstanceOf(ZkinferError);
  });

  it('failed jobs keep their code through the queue; reasons BullMQ writes itself get one', () => {
    expect(failureOf(new ZkinferError('WITNESS_FAILED', 'the circuit cannot be satisfied'))).toEqual({ code: 'WITNESS_FAILED', message: 'the circuit cannot be satisfied' });
    expect(decodeFailure(encodeFailure({ code: 'INPUT_INVALID', message: 'a: b: c' }))).toEqual({ code: 'INPUT_INVALID', message: 'a: b: c' });
    expect(decodeFailure('job stalled more than allowable limit').code).toBe('WORKER_LOST');
    expect(decodeFailure('NOT_A_CODE: text')).toEqual({ code: 'INTERNAL', message: 'NOT_A_CODE: text' });
    expect(decodeFailure(undefined)).toEqual({ code: 'INTERNAL', message: 'the job failed' });
    expect(fileError('ARTIFACT_CORRUPT', '/store/ab/abc', new SyntaxError('Unexpected end of JSON input')).message).toBe('/store/ab/abc is corrupt or truncated: Unexpected end of JSON input');
  });
});

describe('corrupt build files name the file', () => {
  let dir: string;
  beforeAll(async () => {
    const data = loadJson(fixture('digits_mlp.data.json'));
    const built = await ensureBuild('digits_mlp', fs.readFileSync(fixture('digits_mlp.onnx')), data);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkt-corrupt-'));
    fs.cpSync(built, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'input.json'), JSON.stringify({ input: data.test[0].input }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('zkinfer prove refuses a build of the former format (circom\'s wire numbering, which the witness does not follow)', async () => {
    const p = path.join(dir, 'manifest.json');
    const good = fs.readFileSync(p, 'utf8');
    fs.writeFileSync(p, good.replace('"zkinfer-build/2"', '"zkinfer-build/1"'));
    try {
      const r = await runCli(['prove', dir, '--input', path.join(dir, 'input.json'), '--out', path.join(dir, 'receipt.json')]);
      expect(r.stderr).toContain(`error BUILD_INVALID: ${p}: expected format "zkinfer-build/2"`);
      expect(r.code).toBe(2);
    } finally {
      fs.writeFileSync(p, good);
    }
  });

  it.each([
    ['model.zkey', (b: Buffer) => b.subarray(0, Math.floor(b.length / 3))],
    ['program.jsonl', (b: Buffer) => b.subarray(0, 100)],
    ['program.jsonl', (b: Buffer) => b.subarray(0, b.length - 200)],
  ])('zkinfer prove with a truncated %s: BUILD_INVALID naming it, exit 2', async (file, cut) => {
    const p = path.join(dir, file);
    const good = fs.readFileSync(p);
    fs.writeFileSync(p, cut(good));
    try {
      const r = await runCli(['prove', dir, '--input', path.join(dir, 'input.json'), '--out', path.join(dir, 'receipt.json')]);
      expect(r.stderr).toContain(`error BUILD_INVALID: ${p} is corrupt or truncated`);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.code).toBe(2);
    } finally {
      fs.writeFileSync(p, good);
    }
  });
});
