import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AnalysisReport, CompareReport, Signature } from '../../src/core/report/schema';
import { ResultStore } from '../../src/extension/logic/resultStore';
import { boxAround } from '../fixtures/boxes';

function report(
  modelPath: string,
  hMedian: number,
  iMedian: number,
  createdAt: string,
): AnalysisReport {
  const mi = { pairs: 18336, median: iMedian, mean: iMedian, q1: iMedian / 2, q3: iMedian * 2 };
  const density = {
    components: [{ weight: 1, mean: iMedian, sd: 0.1 }],
    bic: 1,
    x: [0, 1],
    density: [1, 0],
  };
  return {
    schema: 'memlens.report',
    version: 1,
    createdAt,
    model: { path: modelPath, format: 'tfjs-layers', sha256: 'ab' },
    probe: { path: '/w/probe.npy', samples: 600 },
    params: {
      bins: 100,
      binning: 'global',
      k: 3,
      samples: 600,
      seed: 0,
      point: 'preactivation',
      layers: ['hidden1'],
      miNeuronCap: null,
      miPairs: null,
    },
    backend: 'wasm',
    timing: { captureMs: 1, entropyMs: 1, miMs: 1, totalMs: 3 },
    warnings: [],
    flags: [],
    layers: [],
    summary: { entropy: boxAround(hMedian), mi, density },
  };
}

const heuristic: Signature = {
  kind: 'heuristic',
  deltaEntropy: -0.8,
  notchesOverlap: false,
  miRatio: 3.1,
  miRatioLow: 2.7,
  miRatioHigh: 3.6,
  reference: '/w/shortcut-baseline/model.json',
  explanation: 'heuristic memorization',
};

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'memlens-store-'));
}

void test('an analysis is stored, becomes the latest for its model, and survives a reload', async () => {
  const dir = tempDir();
  try {
    const store = new ResultStore(dir);
    await store.load();
    let changes = 0;
    store.onDidChange(() => changes++);
    const r = report('/w/shortcut/model.json', 1.2, 0.9, '2026-01-01T10:00:00.000Z');
    const entry = await store.putAnalysis(
      '/w/shortcut/model.json',
      'k1'.padEnd(64, '0'),
      r,
      heuristic,
    );
    assert.equal(changes, 1);
    assert.equal(entry.entropyMedian, 1.2);
    assert.equal(entry.miMedian, 0.9);
    assert.equal(entry.signatureSource, 'baseline');

    const again = new ResultStore(dir);
    await again.load();
    assert.deepEqual(again.latest('/w/shortcut/model.json'), entry);
    assert.deepEqual(await again.report(entry.key), r);
    assert.deepEqual(await again.signature(entry.key), heuristic);
    assert.equal(await again.signature('f'.repeat(64)), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('checkedAt: now for an analysis or a cache hit of an old report, the report time for an import; old indexes fall back to analysedAt', async () => {
  const dir = tempDir();
  try {
    const store = new ResultStore(dir);
    await store.load();
    const old = report('/w/m.onnx', 1.2, 0.9, '2026-01-01T10:00:00.000Z');
    const before = Date.now();
    const hit = await store.putAnalysis('/w/m.onnx', 'a'.repeat(64), old, null);
    assert.equal(hit.analysedAt, '2026-01-01T10:00:00.000Z');
    assert.ok(Date.parse(hit.checkedAt) >= before && Date.parse(hit.checkedAt) <= Date.now());
    const imported = await store.putAnalysis('/w/m.onnx', 'b'.repeat(64), old, null, old.createdAt);
    assert.equal(imported.checkedAt, '2026-01-01T10:00:00.000Z');
    // A cache hit on the latest result: checked now, nothing else changes.
    const beforeHit = Date.now();
    await store.markChecked('/w/m.onnx');
    const rechecked = store.latest('/w/m.onnx');
    assert.ok(rechecked && Date.parse(rechecked.checkedAt) >= beforeHit);
    assert.deepEqual({ ...rechecked, checkedAt: imported.checkedAt }, imported);
    // An index from before checkedAt existed.
    const legacy = { ...imported } as Partial<typeof imported>;
    delete legacy.checkedAt;
    delete legacy.context;
    writeFileSync(
      path.join(dir, 'index.json'),
      JSON.stringify({ version: 1, entries: [legacy], compares: [] }),
    );
    const reloaded = new ResultStore(dir);
    await reloaded.load();
    assert.equal(reloaded.latest('/w/m.onnx')?.checkedAt, '2026-01-01T10:00:00.000Z');
    assert.equal(reloaded.latest('/w/m.onnx')?.context.kind, 'alone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a compare gives every model its signature in its own context; the user can switch back and forth', async () => {
  const dir = tempDir();
  try {
    const store = new ResultStore(dir);
    await store.load();
    const a = report('/w/a/model.json', 2.0, 0.3, '2026-01-01T10:00:00.000Z');
    const keyA = 'a'.repeat(64);
    await store.putAnalysis('/w/a/model.json', keyA, a, null);
    const cmp: CompareReport = {
      schema: 'memlens.compare',
      version: 2,
      createdAt: '2026-01-01T11:00:00.000Z',
      probe: null,
      params: a.params,
      baseline: '/w/b/model.json',
      reference: {
        mode: 'baseline',
        path: '/w/b/model.json',
        initialisation: false,
        label: '/w/b/model.json',
        entropyMedian: 2.8,
        miMedian: 0.1,
      },
      thresholds: { deltaEntropy: 0.1, miRatio: 1.5, scaleRatio: 1.5 },
      models: [
        {
          path: '/w/a/model.json',
          step: null,
          summary: a.summary,
          layers: [],
          signature: heuristic,
          metric: null,
        },
        {
          path: '/w/b/model.json',
          step: null,
          summary: report('/w/b/model.json', 2.8, 0.1, '').summary,
          layers: [],
          signature: { ...heuristic, kind: 'none' },
          metric: null,
        },
        {
          path: '/w/c/model.json',
          step: null,
          summary: a.summary,
          layers: [],
          signature: heuristic,
          metric: null,
          error: 'different architecture',
        },
      ],
      target: null,
      ranking: [],
      rankingRule: 'no target',
      orderings: { entropy: ['/w/a/model.json'], mi: ['/w/a/model.json'] },
      correlation: null,
      trajectory: null,
      onsets: [],
    };
    await store.putCompare('c'.repeat(64), cmp);
    assert.equal(store.latest('/w/a/model.json')?.signature?.kind, 'heuristic');
    assert.equal(store.latest('/w/a/model.json')?.context.kind, 'compare');
    assert.equal(store.latest('/w/a/model.json')?.key, keyA, 'the analysis report stays reachable');
    assert.equal(store.latest('/w/b/model.json')?.entropyMedian, 2.8);
    assert.equal(store.latest('/w/b/model.json')?.key, '', 'b was only compared');
    assert.equal(store.latest('/w/c/model.json'), undefined, 'a failed model gets no entry');
    assert.equal(store.latestCompare()?.key, 'c'.repeat(64));

    // a keeps both results: alone, and in the compare (newest, current).
    assert.deepEqual(
      store.results('/w/a/model.json').map((e) => [e.context.kind, e.signature?.kind ?? null]),
      [
        ['compare', 'heuristic'],
        ['alone', null],
      ],
    );
    // Re-analysing alone makes the lone result current again; the compare's is still kept.
    await store.putAnalysis(
      '/w/a/model.json',
      keyA,
      { ...a, createdAt: '2026-01-01T12:00:00.000Z' },
      null,
    );
    assert.equal(store.latest('/w/a/model.json')?.context.kind, 'alone');
    assert.equal(store.results('/w/a/model.json').length, 2, 'same context replaced, not added');
    const compared = store.results('/w/a/model.json').find((e) => e.context.kind === 'compare');
    assert.ok(compared);
    assert.equal(await store.select('/w/a/model.json', compared.context.id), true);
    assert.equal(store.latest('/w/a/model.json')?.signature?.kind, 'heuristic');
    assert.equal(await store.select('/w/a/model.json', 'no such context'), false);
    // The choice survives a reload.
    const again = new ResultStore(dir);
    await again.load();
    assert.equal(again.latest('/w/a/model.json')?.context.id, compared.context.id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('results are kept per context: probe, baseline and settings each make their own', async () => {
  const dir = tempDir();
  try {
    const store = new ResultStore(dir);
    await store.load();
    const m = '/w/m/model.json';
    const base = report(m, 2.0, 0.3, '2026-01-01T10:00:00.000Z');
    await store.putAnalysis(m, '1'.repeat(64), base, null);
    const otherProbe = {
      ...base,
      createdAt: '2026-01-01T10:01:00.000Z',
      probe: { path: '/w/wrong.npy', samples: 600 },
    };
    await store.putAnalysis(m, '2'.repeat(64), otherProbe, null);
    const baselined = { ...base, createdAt: '2026-01-01T10:02:00.000Z' };
    await store.putAnalysis(m, '3'.repeat(64), baselined, heuristic);
    const moreBins = {
      ...base,
      createdAt: '2026-01-01T10:03:00.000Z',
      params: { ...base.params, bins: 30 },
    };
    await store.putAnalysis(m, '4'.repeat(64), moreBins, null);
    const results = store.results(m);
    assert.deepEqual(
      results.map((e) => e.key[0]),
      ['4', '3', '2', '1'],
    );
    assert.equal(new Set(results.map((e) => e.context.id)).size, 4);
    assert.equal(results[1].context.kind, 'baseline');
    assert.equal(results[1].context.reference, heuristic.reference);
    assert.equal(results[2].context.probe, '/w/wrong.npy');
    assert.match(results[0].context.settings, /30 global bins/);
    assert.equal(store.latest(m)?.key, '4'.repeat(64), 'the newest is current');
    // A retrained model in the first context replaces that context's result.
    await store.putAnalysis(
      m,
      '5'.repeat(64),
      { ...base, createdAt: '2026-01-01T11:00:00.000Z' },
      null,
    );
    assert.equal(store.results(m).length, 4);
    assert.equal(store.results(m)[0].key, '5'.repeat(64));
    // A baseline measured for another model's reading does not take over its current result.
    await store.putAnalysis(m, '6'.repeat(64), otherProbe, null, undefined, false);
    assert.equal(store.latest(m)?.key, '5'.repeat(64));
    assert.equal(
      store.results(m).find((e) => e.context.probe === '/w/wrong.npy')?.key,
      '6'.repeat(64),
    );
    // The entries list has one (current) result per model.
    assert.deepEqual(
      store.entries().map((e) => e.key),
      ['5'.repeat(64)],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('entries are newest first, and clear deletes reports and compares', async () => {
  const dir = tempDir();
  try {
    const store = new ResultStore(dir);
    await store.load();
    await store.putAnalysis(
      '/w/old.onnx',
      '1'.repeat(64),
      report('/w/old.onnx', 1, 1, '2026-01-01T00:00:00.000Z'),
      null,
    );
    await store.putAnalysis(
      '/w/new.onnx',
      '2'.repeat(64),
      report('/w/new.onnx', 1, 1, '2026-02-01T00:00:00.000Z'),
      null,
    );
    assert.deepEqual(
      store.entries().map((e) => e.modelPath),
      ['/w/new.onnx', '/w/old.onnx'],
    );
    assert.equal(store.newest()?.modelPath, '/w/new.onnx');
    await store.clear();
    assert.deepEqual(store.entries(), []);
    assert.deepEqual(readdirSync(dir), ['index.json']);
    assert.equal(await store.report('1'.repeat(64)), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a corrupt index starts empty instead of failing', async () => {
  const dir = tempDir();
  try {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, 'index.json'), '{not json');
    const store = new ResultStore(dir);
    await store.load();
    assert.deepEqual(store.entries(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a result stored while the index is still loading is kept, and listeners hear the load', async () => {
  const dir = tempDir();
  try {
    const first = new ResultStore(dir);
    await first.load();
    await first.putAnalysis(
      '/w/old.onnx',
      '1'.repeat(64),
      report('/w/old.onnx', 1, 1, '2026-01-01T00:00:00.000Z'),
      null,
    );

    const store = new ResultStore(dir);
    let heard = 0;
    store.onDidChange(() => heard++);
    const loading = store.load();
    // Not awaited: activation starts the load and a command may store a result at once.
    const put = store.putAnalysis(
      '/w/new.onnx',
      '2'.repeat(64),
      report('/w/new.onnx', 2, 2, '2026-02-01T00:00:00.000Z'),
      null,
    );
    await Promise.all([loading, put]);
    assert.deepEqual(
      store.entries().map((e) => e.modelPath),
      ['/w/new.onnx', '/w/old.onnx'],
    );
    assert.equal(heard, 2, 'one notification for the load, one for the new result');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('newest: the model analysed last, not a baseline measured for its reading; kept on reload', async () => {
  const dir = tempDir();
  try {
    const store = new ResultStore(dir);
    await store.load();
    const model = report('/w/shortcut/model.json', 1.2, 0.9, '2026-01-01T10:00:00.000Z');
    await store.putAnalysis('/w/shortcut/model.json', '1'.repeat(64), model, heuristic);
    // The baseline's own report comes after, and is newer.
    const base = report('/w/shortcut-baseline/model.json', 2, 0.3, '2026-01-01T10:00:01.000Z');
    await store.putAnalysis(
      '/w/shortcut-baseline/model.json',
      '2'.repeat(64),
      base,
      null,
      undefined,
      false,
    );
    assert.equal(store.entries()[0].modelPath, '/w/shortcut-baseline/model.json');
    assert.equal(store.newest()?.modelPath, '/w/shortcut/model.json');
    const again = new ResultStore(dir);
    await again.load();
    assert.equal(again.newest()?.modelPath, '/w/shortcut/model.json');
    await again.clear();
    assert.equal(again.newest(), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
