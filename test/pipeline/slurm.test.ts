// A real Slurm: a one-node cluster on localhost (scripts/slurmLocal.sh: its own munged,
// slurmctld and slurmd), a 4-shard array job through `memlens slurm measure` on a synthetic
// dump, the merge checked against a local `memlens measure` byte for byte (the timings aside),
// and the daemons it started stopped, also when the test fails. Then the extension's route
// (src/extension/child/slurmClient.ts): the same CLI run with a job's flags, its progress,
// and cancel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../src/core/io/npy';
import { Rng } from '../../src/core/random';
import { bundleCli } from '../fixtures/cliBundle';
import { SHARD_MI_RATE } from '../../src/cli/commands/shardFlag';
import { skipWithout } from '../fixtures/optionalDeps';
import { CancelledError } from '../../src/core/errors';
import { runSlurmCli } from '../../src/extension/child/slurmClient';
import { jobParamsFromSettings } from '../../src/extension/logic/jobSettings';
import type { SlurmProgress } from '../../src/extension/logic/slurmJob';
import { analyzeFlags, slurmArgs } from '../../src/extension/logic/slurmJob';

const cli = path.join(__dirname, 'memlensCli.js');
const script = path.resolve(__dirname, '../../scripts/slurmLocal.sh');
const hasSlurm =
  process.getuid?.() === 0 &&
  ['slurmctld', 'slurmd', 'munged'].every((b) => existsSync(`/usr/sbin/${b}`));

const pidAlive = (pid: number): boolean => existsSync(`/proc/${pid}`);

type Run = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) => SpawnSyncReturns<string>;

/**
 * Runs `fn` in a fresh folder holding acts.npy (S x N seeded normals, `edit` applied), with
 * a one-node cluster started there and stopped after, also when `fn` fails; every daemon it
 * started must be gone then.
 */
async function onLocalCluster(
  data: { seed: number; S: number; N: number; edit?: (v: Float32Array) => void },
  fn: (c: { dir: string; conf: string; run: Run }) => Promise<void>,
): Promise<void> {
  await bundleCli(cli);
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-slurm-'));
  const cluster = path.join(dir, 'cluster');
  const rng = new Rng(data.seed);
  const v = Float32Array.from({ length: data.S * data.N }, () => rng.normal());
  data.edit?.(v);
  writeFileSync(path.join(dir, 'acts.npy'), encodeNpy(v, [data.S, data.N]));
  const run: Run = (cmd, args, env = process.env) =>
    spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', timeout: 100_000, env });
  const started = run('bash', [script, 'start', cluster]);
  const pids: number[] = [];
  try {
    assert.equal(started.status, 0, started.stderr);
    const mungeDir = readFileSync(path.join(cluster, 'munge.dir'), 'utf8').trim();
    for (const f of [`${mungeDir}/munged.pid`, `${cluster}/slurmctld.pid`, `${cluster}/slurmd.pid`])
      pids.push(Number(readFileSync(f, 'utf8')));
    assert.ok(pids.every(pidAlive), 'the three daemons run');
    await fn({ dir, conf: path.join(cluster, 'slurm.conf'), run });
  } finally {
    const stopped = run('bash', [script, 'stop', cluster]);
    assert.equal(stopped.status, 0, stopped.stderr);
  }
  assert.deepEqual(pids.filter(pidAlive), [], 'no daemon left running');
}

void test(
  'memlens slurm measure on a local one-node cluster: 4 shards, merged as a local run',
  { skip: skipWithout('slurm-wlm', hasSlurm), timeout: 120_000 },
  async () => {
    const N = 24;
    const edit = (v: Float32Array): void => {
      for (let s = 0; s < 500; s++) v[s * N + 5] = v[s * N + 4] * 0.9 + 0.1 * v[s * N + 5];
    };
    await onLocalCluster({ seed: 17, S: 500, N, edit }, async ({ dir, conf, run }) => {
      const env = { ...process.env, SLURM_CONF: conf };
      const measure = ['measure', 'acts.npy', '--layer-sizes', '12,12'];
      // The shards plan their MI with a fixed kernel rate: the local run too.
      const local = run(process.execPath, [cli, ...measure, '--out', 'local.json'], {
        ...process.env,
        MEMLENS_MI_RATE: SHARD_MI_RATE,
      });
      assert.equal(local.status, 0, local.stderr);
      const sharded = run(
        process.execPath,
        [
          cli,
          'slurm',
          ...measure,
          '--shards',
          '4',
          '--cpus',
          '1',
          '--time',
          '5:00',
          '--out',
          'slurm.json',
        ],
        env,
      );
      assert.equal(sharded.status, 0, sharded.stderr);
      assert.match(sharded.stderr, /memlens: slurm submitted job \d+: 4 shards/);
      assert.match(sharded.stderr, /memlens: slurm job \d+: 4\/4 shards done\n/);
      const strip = (f: string) =>
        readFileSync(path.join(dir, f), 'utf8').replace(/"timing": \{[^}]*\}/, '');
      assert.equal(strip('slurm.json'), strip('local.json'));
      for (let i = 0; i < 4; i++)
        assert.ok(existsSync(path.join(dir, `slurm.json.slurm/part-${i}.mlshard`)));
    });
  },
);

void test(
  "the extension's Slurm run: progress from the CLI's lines, the merged report as a local run, cancel scancels",
  { skip: skipWithout('slurm-wlm', hasSlurm), timeout: 180_000 },
  async () => {
    const saved = process.env.SLURM_CONF;
    await onLocalCluster({ seed: 23, S: 400, N: 16 }, async ({ dir, conf, run }) => {
      try {
        // runSlurmCli passes its environment on, as the extension host's.
        process.env.SLURM_CONF = conf;
        const params = jobParamsFromSettings(() => undefined, {
          cores: 2,
          workspace: dir,
          resolvePython: (p) => p,
        });
        const slurm = { shards: 3, partition: '', time: '5:00', cpus: 1 };
        const out = path.join(dir, 'report.json');
        const seen: SlurmProgress[] = [];
        await runSlurmCli(cli, slurmArgs('acts.npy', params, slurm, out), {
          cwd: dir,
          shards: 3,
          onProgress: (p) => seen.push(p),
        });
        assert.match(seen[0].text, /^submitted job \d+: 3 shards$/);
        assert.equal(seen.at(-1)?.done, 3);
        assert.ok(seen.every((p) => p.total === 3 && p.jobId === seen[0].jobId));
        const local = run(
          process.execPath,
          [cli, 'analyze', 'acts.npy', ...analyzeFlags(params), '--out', 'local.json'],
          { ...process.env, MEMLENS_MI_RATE: SHARD_MI_RATE },
        );
        assert.equal(local.status, 0, local.stderr);
        const strip = (f: string) =>
          readFileSync(f, 'utf8')
            .replace(/"timing": \{[^}]*\}/, '')
            .replace(/"createdAt": "[^"]*"/, '');
        assert.equal(strip(out), strip(path.join(dir, 'local.json')));

        // Cancel once the array is submitted: the CLI scancels it and the run rejects.
        const controller = new AbortController();
        const t0 = Date.now();
        let cancelledAt = 0;
        await assert.rejects(
          runSlurmCli(cli, slurmArgs('acts.npy', params, slurm, path.join(dir, 'again.json')), {
            cwd: dir,
            shards: 3,
            signal: controller.signal,
            onProgress: (p) => {
              if (p.done === undefined && cancelledAt === 0) {
                cancelledAt = Date.now();
                controller.abort();
              }
            },
          }),
          CancelledError,
        );
        // scancel leaves the tasks COMPLETING for a moment: none may still run or wait.
        let queue = run('squeue', ['-h', '-o', '%i %T']);
        assert.equal(queue.status, 0, queue.stderr);
        assert.doesNotMatch(queue.stdout, /RUNNING|PENDING/);
        for (let i = 0; i < 100 && queue.stdout.trim() !== ''; i++) {
          await new Promise((r) => setTimeout(r, 200));
          queue = run('squeue', ['-h', '-o', '%i %T']);
        }
        assert.equal(queue.stdout.trim(), '', 'no job left in the queue');
        const after = Date.now() - cancelledAt;
        console.log(
          `slurm cancel: run ended ${after} ms after the abort (${cancelledAt - t0} ms after the start)`,
        );
        // Not a poll interval (1 s) later: an abort during squeue used to wait out the next sleep.
        assert.ok(after < 1000, `${after} ms`);
      } finally {
        if (saved === undefined) delete process.env.SLURM_CONF;
        else process.env.SLURM_CONF = saved;
      }
    });
  },
);
