// `memlens slurm`: the sbatch script of --dry-run, and the follow/resubmit/merge loop against
// a stand-in sbatch/squeue on the PATH that runs the array's tasks at once (a shard can be
// made to fail). The real Slurm run is test/pipeline/slurm.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../src/core/io/npy';
import { Rng } from '../../src/core/random';
import { bundleCli } from '../fixtures/cliBundle';
import { SHARD_MI_RATE } from '../../src/cli/commands/shardFlag';

const cli = path.join(__dirname, 'memlensCli.js');

/** sbatch: runs the tasks of --array (else the script's #SBATCH --array) one after another. */
const FAKE_SBATCH = `#!/bin/bash
script=\${@: -1}
array=$(sed -n 's/^#SBATCH --array=//p' "$script")
for a in "$@"; do case $a in --array=*) array=\${a#--array=};; esac; done
echo "$array" >> "$FAKE_DIR/submissions"
case $array in *-*) list=$(seq \${array%-*} \${array#*-});; *) list=\${array//,/ };; esac
out=$(sed -n 's/^#SBATCH --output=//p' "$script")
for i in $list; do
  log=\${out//%a/$i}
  # A shard named in FAKE_FAIL fails its first FAKE_FAILS submissions.
  n=$(cat "$FAKE_DIR/tries-$i" 2>/dev/null || echo 0); echo $((n + 1)) > "$FAKE_DIR/tries-$i"
  if [[ " $FAKE_FAIL " == *" $i "* ]] && [ "$n" -lt "$FAKE_FAILS" ]; then echo "node failure" >> "$log"; continue; fi
  SLURM_ARRAY_TASK_ID=$i bash "$script" >> "$log" 2>&1 || true
done
echo "4242;cluster"
`;

function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-slurm-'));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'sbatch'), FAKE_SBATCH, { mode: 0o755 });
  // The tasks ran inside sbatch: squeue lists nothing; sacct is off as on the local cluster.
  writeFileSync(path.join(bin, 'squeue'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  writeFileSync(
    path.join(bin, 'sacct'),
    '#!/bin/sh\necho "Slurm accounting storage is disabled" >&2\nexit 1\n',
    { mode: 0o755 },
  );
  const rng = new Rng(6);
  const S = 200;
  const N = 6;
  writeFileSync(
    path.join(dir, 'acts.npy'),
    encodeNpy(
      Float32Array.from({ length: S * N }, () => rng.normal()),
      [S, N],
    ),
  );
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [cli, ...args], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_DIR: dir, ...env },
    });
  return { dir, run };
}

void test('slurm --dry-run prints the sbatch array script and submits nothing', async () => {
  await bundleCli(cli);
  const { dir, run } = setup();
  const r = run([
    'slurm',
    'measure',
    'acts.npy',
    '--k',
    '4',
    '--shards',
    '4',
    '--partition',
    'gpu',
    '--time',
    '1:00:00',
    '--cpus',
    '2',
    '--out',
    'out dir/r.json',
    '--dry-run',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const work = path.join(dir, 'out dir/r.json.slurm');
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], '#!/bin/bash');
  for (const line of [
    '#SBATCH --array=0-3',
    `#SBATCH --output="${work}/log-%a.txt"`,
    '#SBATCH --cpus-per-task=2',
    '#SBATCH --partition=gpu',
    '#SBATCH --time=1:00:00',
    `cd ${dir}`,
  ]) {
    assert.ok(lines.includes(line), `${line} in\n${r.stdout}`);
  }
  assert.match(r.stdout, new RegExp(`measure acts\\.npy --k 4 \\\\\\n`));
  assert.ok(
    r.stdout.includes(
      `--shard "$SLURM_ARRAY_TASK_ID/4" --out '${work}'/part-"$SLURM_ARRAY_TASK_ID".mlshard`,
    ),
  );
  assert.ok(!existsSync(path.join(dir, 'submissions')), 'nothing submitted');
  assert.ok(!existsSync(work), 'nothing written');
});

void test('slurm: a failed shard is resubmitted alone, and the merge equals a local run', async () => {
  await bundleCli(cli);
  const { dir, run } = setup();
  const local = run(['measure', 'acts.npy', '--out', 'local.json'], {
    MEMLENS_MI_RATE: SHARD_MI_RATE,
  });
  assert.equal(local.status, 0, local.stderr);
  const r = run(['slurm', 'measure', 'acts.npy', '--shards', '3', '--out', 'r.json'], {
    FAKE_FAIL: '1',
    FAKE_FAILS: '1',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readFileSync(path.join(dir, 'submissions'), 'utf8').split('\n'), [
    '0-2',
    '1',
    '',
  ]);
  assert.match(r.stderr, /memlens: slurm submitted job 4242: shard 1 again/);
  assert.match(r.stderr, /memlens: slurm job 4242: 3\/3 shards done/);
  const strip = (f: string) =>
    readFileSync(path.join(dir, f), 'utf8').replace(/"timing": \{[^}]*\}/, '');
  assert.equal(strip('r.json'), strip('local.json'));
});

void test('slurm: shards failing every submission end in one line naming them and their logs', async () => {
  await bundleCli(cli);
  const { dir, run } = setup();
  const r = run(
    ['slurm', 'measure', 'acts.npy', '--shards', '4', '--retries', '1', '--out', 'r.json'],
    {
      FAKE_FAIL: '0 2',
      FAKE_FAILS: '9',
    },
  );
  assert.equal(r.status, 1);
  const work = path.join(dir, 'r.json.slurm');
  const last = r.stderr.trim().split('\n').at(-1);
  assert.equal(
    last,
    `memlens: slurm: shards 0, 2 of 4 wrote no part after 2 submissions; see 0: ${work}/log-0.txt, 2: ${work}/log-2.txt`,
  );
  assert.deepEqual(readFileSync(path.join(dir, 'submissions'), 'utf8').split('\n'), [
    '0-3',
    '0,2',
    '',
  ]);
  assert.ok(!existsSync(path.join(dir, 'r.json')));
});
