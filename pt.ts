import { writeDevPtau } from './src/setup/dev-ptau.js';
import * as snarkjs from 'snarkjs';
const p = Number(process.argv[2]);
const t0 = performance.now();
await writeDevPtau(`/tmp/dev${p}.ptau`, p, console.log);
console.log('ms', performance.now() - t0);
