// `memlens slurm` at BERT-base size, on the Slurm that SLURM_CONF names (scripts/slurmLocal.sh
// start DIR, then SLURM_CONF=DIR/slurm.conf): 12 layers x 768 neurons, S = 2,500, synthetic,
// every within-layer pair (12 x 294,528), each layer a 4-shard array job, the 12 submitted at
// once. Skipped when no Slurm answers. MEMLENS_BENCH_SLURM_LAYERS=n runs n layers only.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../src/core/io/npy';
import { Rng } from '../src/core/random';

const S = 2500;
const WIDTH = 768;
const SHARDS = 4;

/** One layer's S x 768 activations: 768 mixtures of 32 shared factors and own noise. */
function layerValues(seed: number): Float32Array {
  const rng = new Rng(seed);
  const factors = 32;
  const z = Float64Array.from({ length: S * factors }, () => rng.normal());
  const w = Float64Array.from({ length: factors * WIDTH }, () => rng.normal() * 0.3);
  const v = new Float32Array(S * WIDTH);
  for (let s = 0; s < S; s++) {
    for (let n = 0; n < WIDTH; n++) {
      let x = rng.normal();
      for (let f = 0; f < factors; f++) x += z[s * factors + f] * w[f * WIDTH + n];
      v[s * WIDTH + n] = x;
    }
  }
  return v;
}

function slurmUp(): boolean {
  if (process.env.SLURM_CONF === undefined) return false;
  try {
    return execFileSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}

export async function benchSlurm(): Promise<void> {
  const layers = Number(process.env.MEMLENS_BENCH_SLURM_LAYERS ?? 12);
  console.log(
    `slurm (BERT-base size: ${layers} x ${WIDTH} neurons, S = ${S}, within-layer pairs, ${SHARDS} shards a layer)`,
  );
  if (!slurmUp()) {
    console.log('  skipped: no Slurm (scripts/slurmLocal.sh start DIR; SLURM_CONF=DIR/slurm.conf)');
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-bench-slurm-'));
  try {
    for (let l = 0; l < layers; l++)
      writeFileSync(path.join(dir, `layer${l}.npy`), encodeNpy(layerValues(l + 1), [S, WIDTH]));
    const cli = path.join(__dirname, 'cli.js');
    const t0 = performance.now();
    await Promise.all(
      Array.from(
        { length: layers },
        (_, l) =>
          new Promise<void>((resolve, reject) => {
            const args = [cli, 'slurm', 'measure', `layer${l}.npy`, '--threads', '1'];
            args.push('--shards', String(SHARDS), '--cpus', '1', '--out', `layer${l}.json`);
            execFile(process.execPath, args, { cwd: dir, maxBuffer: 1 << 24 }, (err, _o, stderr) =>
              err === null ? resolve() : reject(new Error(`layer ${l}: ${stderr.trim()}`)),
            );
          }),
      ),
    );
    const wall = (performance.now() - t0) / 1000;
    const pairs = (layers * WIDTH * (WIDTH - 1)) / 2;
    const cpus = execFileSync('sinfo', ['-h', '-o', '%c'], { encoding: 'utf8' }).trim();
    console.log(
      `  ${pairs.toLocaleString('en-US')} pairs in ${wall.toFixed(1)} s wall on ${cpus} CPUs: ${(pairs / wall).toFixed(0)} pairs/s (${(pairs / wall / Number(cpus)).toFixed(0)} per CPU), submission and merges included`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
