import type { OnProgress, Phase } from '../progress.js';

const WIDTH = 28;

/**
 * Draws progress on standard error: on a terminal a bar per phase with
 * percent and ETA, redrawn in place; otherwise a line at every tenth, so a
 * log stays short. Messages always get a line of their own.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr, tty = Boolean(stream.isTTY)): OnProgress {
  let current: Phase | null = null;
  let started = 0;
  let lastTenth = -1;
  let drawn = false;
  const line = (s: string) => {
    if (drawn) stream.write('\n');
    drawn = false;
    stream.write(`[zkinfer] ${s}\n`);
  };
  return (e) => {
    if (e.phase !== current) {
      current = e.phase;
      started = Date.now();
      lastTenth = -1;
      if (drawn) stream.write('\n');
      drawn = false;
    }
    const pct = Math.round(e.fraction * 100);
    if (tty) {
      const filled = Math.round(e.fraction * WIDTH);
      const spent = (Date.now() - started) / 1000;
      const eta = e.fraction > 0.02 && e.fraction < 1 ? ` ETA ${Math.ceil((spent / e.fraction) * (1 - e.fraction))} s` : '';
      stream.write(`\r[zkinfer] ${e.phase.padEnd(8)} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(pct).padStart(3)}%${eta}   `);
      drawn = true;
      if (e.message) line(`${e.phase}: ${e.message}`);
      return;
    }
    const tenth = Math.floor(e.fraction * 10);
    if (e.message) line(`${e.phase}: ${e.message}`);
    else if (tenth > lastTenth) line(`${e.phase} ${pct}%`);
    lastTenth = Math.max(lastTenth, tenth);
  };
}
