// Run before `npm test`: the browser tests drive Debian's Chromium headless.
// On a machine without it, install it from Debian's packages when we can
// (root with apt-get); otherwise say what to do and let the tests report it.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(path)) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (root && apt && !process.env.CHROMIUM_PATH) {
    process.stderr.write('Chromium is missing: installing Debian\'s chromium package for the browser tests\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    const r = spawnSync('apt-get', ['install', '-y', '-q', 'chromium'], { stdio: 'inherit', env });
    if (r.status !== 0) process.stderr.write('could not install chromium; the browser tests will fail\n');
  } else {
    process.stderr.write(`no Chromium at ${path}: install Debian's chromium package (or set CHROMIUM_PATH) for the browser tests\n`);
  }
}
