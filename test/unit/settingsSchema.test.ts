// The settings table (src/extension/logic/settingsSchema.ts) is the one source of the
// `memlens.*` settings: package.json is generated from it, the host reads every setting
// through it, and the analysis child validates a job against it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { isJobRequest } from '../../src/extension/child/protocol';
import type { JobParams } from '../../src/extension/child/protocol';
import { jobParamsFromSettings, PATH_SETTING_KEYS } from '../../src/extension/logic/jobSettings';
import type { JobSettingsContext } from '../../src/extension/logic/jobSettings';
import { slurmSettingsFrom } from '../../src/extension/logic/slurmJob';
import { restrictedSettings, withConfiguration } from '../../src/extension/logic/settingsManifest';
import type { SettingKey } from '../../src/extension/logic/settingsSchema';
import { SETTING_KEYS, settingSpec } from '../../src/extension/logic/settingsSchema';
import { coerceSetting, isValidSetting } from '../../src/extension/logic/settingValues';
import { defaultJobParams } from '../fixtures/jobParams';

const packageJson = readFileSync('package.json', 'utf8');
const sorted = (xs: readonly string[]): string[] => [...xs].sort();

const context: JobSettingsContext = {
  cores: 4,
  workspace: '/w',
  resolvePython: (value) => `/resolved/${value}`,
};
const analyzeJob = (params: JobParams): unknown => ({
  type: 'job/analyze',
  source: '/w/model.json',
  baseline: null,
  measurements: null,
  params,
});

void test('package.json contributes.configuration is what npm run sync:settings writes', () => {
  assert.equal(
    withConfiguration(packageJson),
    packageJson,
    'package.json is out of date with src/extension/logic/settingsSchema.ts: run npm run sync:settings',
  );
});

void test('the generator replaces only contributes.configuration, and refuses another layout', () => {
  const manifest = JSON.parse(packageJson) as {
    contributes: { configuration: { properties: Record<string, unknown> } };
  };
  // A stale block: a setting missing, one that no longer exists.
  delete manifest.contributes.configuration.properties['memlens.backend'];
  manifest.contributes.configuration.properties['memlens.gone'] = { type: 'string' };
  const stale = `${JSON.stringify(manifest, null, 2)}\n`;
  assert.notEqual(stale, packageJson);
  assert.equal(withConfiguration(stale), packageJson);
  assert.throws(() => withConfiguration(JSON.stringify(manifest, null, 4)), /2-space JSON/);
});

void test("untrusted workspaces' restricted settings are the table's restricted ones", () => {
  const manifest = JSON.parse(packageJson) as {
    capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
  };
  assert.deepEqual(
    sorted(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations),
    sorted([
      'memlens.probeData',
      'memlens.baseline',
      'memlens.backend',
      'memlens.threads',
      'memlens.pythonPath',
      'memlens.torchFactory',
      'memlens.slurm.workDir',
    ]),
  );
  assert.deepEqual(
    sorted(restrictedSettings()),
    sorted(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations),
  );
});

void test('every setting has one description, a default of its own type, enum texts per value', () => {
  for (const key of SETTING_KEYS) {
    const spec = settingSpec(key);
    assert.equal(
      (spec.description === undefined) !== (spec.markdownDescription === undefined),
      true,
      `${key}: exactly one of description and markdownDescription`,
    );
    assert.equal(isValidSetting(key, spec.default), true, `${key}: its default is valid`);
    if (spec.type === 'string' && spec.enumDescriptions !== undefined) {
      assert.equal(spec.enumDescriptions.length, spec.enum?.length, `${key}: one text per value`);
    }
  }
});

void test('coerceSetting clamps numbers into range, rounds integers, and falls back to the default', () => {
  // Out of range: clamped to the nearest end.
  assert.equal(coerceSetting('samples', 5), 10);
  assert.equal(coerceSetting('bins', 1), 2);
  assert.equal(coerceSetting('bins', 1e6), 10000);
  assert.equal(coerceSetting('k', 0), 1);
  assert.equal(coerceSetting('seed', -3), 0);
  assert.equal(coerceSetting('thresholds.miRatio', 0.5), 1);
  assert.equal(coerceSetting('thresholds.deltaEntropy', -1), 0);
  assert.equal(coerceSetting('miNeurons', 1), 2);
  // Integers are rounded, numbers are not.
  assert.equal(coerceSetting('k', 3.6), 4);
  assert.equal(coerceSetting('samples', 2500.4), 2500);
  assert.equal(coerceSetting('thresholds.deltaEntropy', 0.25), 0.25);
  assert.equal(coerceSetting('miNeurons', 64.2), 64);
  // Valid values as they are.
  assert.equal(coerceSetting('samples', 4000), 4000);
  assert.equal(coerceSetting('threads', 0), 0);
  assert.equal(coerceSetting('miNeurons', null), null);
  assert.equal(coerceSetting('target', 'label-noise'), 'label-noise');
  // Wrong types and unset: the default.
  assert.equal(coerceSetting('samples', '12'), 1000);
  assert.equal(coerceSetting('samples', Number.NaN), 1000);
  assert.equal(coerceSetting('bins', Infinity), 100);
  assert.equal(coerceSetting('miNeurons', 'all'), null);
  assert.equal(coerceSetting('point', undefined), 'preactivation');
  assert.equal(coerceSetting('pythonPath', 3), '');
  assert.deepEqual(coerceSetting('layers', 'dense_1'), []);
  assert.deepEqual(coerceSetting('layers', ['dense_1', 3, 'dense_2']), ['dense_1', 'dense_2']);
  // Unknown choices (enum values are case-sensitive): the default.
  assert.equal(coerceSetting('point', 'Output'), 'preactivation');
  assert.equal(coerceSetting('estimator', 'kde'), 'ksg');
  assert.equal(coerceSetting('binning', 'sample'), 'global');
  assert.equal(coerceSetting('target', 'overfit'), 'none');
  // memlens.backend offered `onnx` before; a saved value of it means auto now.
  assert.equal(coerceSetting('backend', 'onnx'), 'auto');
  assert.equal(coerceSetting('backend', 'cpu'), 'cpu');
});

void test('isValidSetting accepts exactly the values of the type, range and choices', () => {
  assert.equal(isValidSetting('samples', 10), true);
  assert.equal(isValidSetting('samples', 9), false);
  assert.equal(isValidSetting('samples', 10.5), false);
  assert.equal(isValidSetting('bins', 10000), true);
  assert.equal(isValidSetting('bins', 10001), false);
  assert.equal(isValidSetting('thresholds.deltaEntropy', 0.05), true);
  assert.equal(isValidSetting('thresholds.deltaEntropy', Number.NaN), false);
  assert.equal(isValidSetting('miNeurons', null), true);
  assert.equal(isValidSetting('miNeurons', 1), false);
  assert.equal(isValidSetting('backend', 'wasm'), true);
  assert.equal(isValidSetting('backend', 'onnx'), false);
  assert.equal(isValidSetting('layers', ['a']), true);
  assert.equal(isValidSetting('layers', ['a', 1]), false);
  assert.equal(isValidSetting('modelInput', null), false);
});

void test('every setting of the table is read: into the job parameters, the Slurm run or as a path', () => {
  const read = new Set<SettingKey>();
  const note = (key: SettingKey): undefined => {
    read.add(key);
    return undefined;
  };
  jobParamsFromSettings(note, context);
  slurmSettingsFrom(note);
  const pathKeys: readonly SettingKey[] = PATH_SETTING_KEYS;
  assert.deepEqual(
    pathKeys.filter((k) => read.has(k)),
    [],
    'a path setting is not a job parameter',
  );
  assert.deepEqual(sorted([...read, ...pathKeys]), sorted(SETTING_KEYS));
});

void test("the default settings give the fixture's job parameters, which the child accepts", () => {
  // Unset (undefined) and set to the manifest's defaults (what VS Code returns) read alike.
  const unset = jobParamsFromSettings(() => undefined, context);
  const defaults = JSON.parse(packageJson) as {
    contributes: { configuration: { properties: Record<string, { default: unknown }> } };
  };
  const fromManifest = jobParamsFromSettings(
    (key) => defaults.contributes.configuration.properties[`memlens.${key}`].default,
    context,
  );
  // threads 0: one per core, minus one (4 cores: 3); the fixture runs one thread.
  const expected = {
    ...defaultJobParams('/w/probe.npy'),
    probe: null,
    threads: 3,
    workspace: '/w',
  };
  assert.deepEqual(unset, expected);
  assert.deepEqual(fromManifest, expected);
  assert.equal(isJobRequest(analyzeJob(unset)), true);
  assert.equal(isJobRequest(analyzeJob(defaultJobParams('/w/probe.npy'))), true);
});

void test('settings map onto job parameters: trimmed texts, python resolved, none as null', () => {
  const values: Partial<Record<SettingKey, unknown>> = {
    threads: 0,
    layers: ['dense_1', '  ', ''],
    modelInput: ' input_ids ',
    torchFactory: '   ',
    pythonPath: ' ~/venv/bin/python ',
    target: 'none',
    backend: 'onnx',
  };
  const params = jobParamsFromSettings((key) => values[key], { ...context, cores: 1 });
  assert.equal(params.threads, 1, 'a single core still gets one thread');
  assert.deepEqual(params.layers, ['dense_1']);
  assert.equal(params.input, 'input_ids');
  assert.equal(params.torchFactory, null);
  assert.equal(params.python, '/resolved/~/venv/bin/python');
  assert.equal(params.target, null);
  assert.equal(params.backend, 'auto', 'an old saved "onnx" runs as auto');
  assert.equal(isJobRequest(analyzeJob(params)), true);
  let resolved = false;
  const noPython = jobParamsFromSettings((key) => (key === 'pythonPath' ? '  ' : undefined), {
    ...context,
    resolvePython: () => {
      resolved = true;
      return 'unexpected';
    },
  });
  assert.equal(noPython.python, null);
  assert.equal(resolved, false, 'an empty pythonPath is not resolved');
});

void test('the child refuses parameters outside the table: an unknown backend, out of range', () => {
  const ok = defaultJobParams('/w/probe.npy');
  const refused: [string, Record<string, unknown>][] = [
    ['backend onnx', { backend: 'onnx' }],
    ['backend gpu', { backend: 'gpu' }],
    ['samples below 10', { samples: 5 }],
    ['bins above 10000', { bins: 20000 }],
    ['k not an integer', { k: 2.5 }],
    ['miNeurons below 2', { miNeurons: 1 }],
    ['threads 0 (unresolved)', { threads: 0 }],
    ['target none (sent as null)', { target: 'none' }],
    ['point unknown', { point: 'input' }],
    ['miRatio below 1', { thresholds: { ...ok.thresholds, miRatio: 0.9 } }],
  ];
  for (const [what, change] of refused) {
    assert.equal(isJobRequest(analyzeJob({ ...ok, ...change } as JobParams)), false, what);
  }
});

void test("docs/extension.md's settings table lists every setting of the table", () => {
  const docs = readFileSync('docs/extension.md', 'utf8');
  const section = /\n## Settings\n([\s\S]*?)\n## /.exec(docs)?.[1] ?? '';
  const listed = [...section.matchAll(/^\| `memlens\.([\w.]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(listed, SETTING_KEYS, 'one row per setting, in the order of the table');
});
