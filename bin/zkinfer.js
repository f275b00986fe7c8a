#!/usr/bin/env node
// `groth16` runs the CLI compiled to JavaScript (bin/compiled.js); every other
// command runs the TypeScript sources through tsx's loader.
const compiled = process.argv[2] === 'groth16' && process.env.ZKINFER_COMPILED !== '0'
  ? await (await import('./compiled.js')).compiledEntry()
  : null;
if (compiled) await import(compiled);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
