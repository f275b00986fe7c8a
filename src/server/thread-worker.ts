import { parentPort } from 'node:worker_threads';
import { toWire, type FromThread, type ToThread } from './thread-pool.js';

/**
 * A ThreadPool thread: runs one task at a time, each the `runTask` export of
 * the module the message names (loaded once per thread).
 */
interface TaskModule {
  runTask(payload: unknown): unknown;
}

const port = parentPort!;
const modules = new Map<string, Promise<TaskModule>>();

const load = (url: string): Promise<TaskModule> => {
  let m = modules.get(url);
  if (!m) {
    m = import(url).then((mod: Partial<TaskModule>) => {
      if (typeof mod.runTask !== 'function') throw new Error(`task module ${url} exports no runTask`);
      return mod as TaskModule;
    });
    modules.set(url, m);
  }
  return m;
};

port.on('message', async (m: ToThread) => {
  let reply: FromThread;
  try {
    const value = await (await load(m.module)).runTask(m.payload);
    reply = { id: m.id, ok: true, value };
    port.postMessage(reply);
  } catch (e) {
    reply = { id: m.id, ok: false, error: toWire(e) };
    port.postMessage(reply);
  }
});

port.postMessage({ ready: true } satisfies FromThread);
