import fs from 'node:fs';
import { importOnnx } from './src/onnx/index.js';
import { quantize, quantizeOptions, parseCalibration, collectStats, runReference, argmax, layerCostOf } from './src/quantize/index.js';
import { flattenTensor, quantizeInput } from './src/receipt/io.js';
const grid = JSON.parse(process.argv[3] ?? '[[10,10]]');
for (const name of [process.argv[2]]) {
  const bytes = fs.readFileSync(`/work/shared/models/${name}.onnx`);
  const data = JSON.parse(fs.readFileSync(`/work/shared/models/${name}.data.json`, 'utf8'));
  const g = importOnnx(bytes);
  const samples = parseCalibration(data, g.input.shape);
  const stats = await collectStats(bytes, g, samples);
  for (const [ab, wb] of grid) {
  const t0 = Date.now();
  const p = quantize({ graph: g, onnxSha256: 'x', stats, samples, options: quantizeOptions({activationBits: ab, weightBits: wb}) });
  const tq = Date.now() - t0;
  let agree = 0, maxerr = 0;
  const costs = p.layers.map(l => `${l.op}:${layerCostOf(l)}`);
  const total = p.layers.reduce((s, l) => s + layerCostOf(l), 0) + p.io.input.bits * g.input.shape.reduce((a,b)=>a*b,1);
  const t1 = Date.now();
  for (const t of data.test) {
    const x = flattenTensor(t.input, g.input.shape, 'input');
    const q = quantizeInput(p.io, x);
    const r = runReference(p, q);
    const out = r.output.map(v => v / 2 ** p.io.output.scale);
    if (argmax(out) === argmax(t.output[0])) agree++;
    out.forEach((v, i) => maxerr = Math.max(maxerr, Math.abs(v - t.output[0][i])));
  }
  console.log(name, ab, wb, 'agree', agree, 'maxerr', maxerr.toFixed(3), 'total', total, 'in', p.io.input.bits, costs.join(' '), 'tq', tq, 'tref', Date.now()-t1);
  }
}
