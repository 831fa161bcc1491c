// The extension's manifest names exactly the files the core's format registry opens: the
// explorer and editor menus' when-clauses and the model viewer's selectors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { analysableFileNames } from '../../src/core/capture/registry';
import { analysableNames } from '../../src/extension/logic/modelFileNames';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  contributes: {
    menus: Record<string, { command: string; when?: string }[]>;
    customEditors: { selector: { filenamePattern: string }[] }[];
  };
};
const sorted = (xs: string[]): string[] => [...new Set(xs)].sort();
const registry = analysableFileNames();

/** The names a `resourceFilename =~ /^a\.b$|\.(x|y)$/i` clause accepts, split into markers and extensions. */
function namesInClause(when: string): { markers: string[]; extensions: string[] } {
  const match = /resourceFilename =~ \/(.+)\/i/.exec(when);
  assert.ok(match, `no resourceFilename test in: ${when}`);
  const markers: string[] = [];
  const extensions: string[] = [];
  for (const alt of match[1].split(/\|(?![^(]*\))/)) {
    const exts = /^\\\.\(([\w|]+)\)\$$/.exec(alt);
    const name = /^\^([\w\\.]+)\$$/.exec(alt);
    if (exts) extensions.push(...exts[1].split('|').map((e) => `.${e}`));
    else if (name) markers.push(name[1].replace(/\\\./g, '.'));
    else assert.fail(`unexpected alternative '${alt}' in: ${when}`);
  }
  return { markers, extensions };
}

void test('the model viewer opens exactly the registry formats and activation dumps', () => {
  const viewer = analysableNames(manifest.contributes.customEditors);
  assert.deepEqual(sorted(viewer.extensions), sorted(registry.extensions));
  assert.deepEqual(sorted(viewer.markers), sorted(registry.markers));
});

void test("every file-name when-clause of the menus lists exactly the registry's names", () => {
  const clauses = Object.values(manifest.contributes.menus)
    .flat()
    .filter((item) => item.when?.includes('resourceFilename'));
  assert.ok(clauses.length >= 4, 'the explorer and editor menus test file names');
  for (const { when } of clauses) {
    const names = namesInClause(when as string);
    assert.deepEqual(sorted(names.extensions), sorted(registry.extensions), when);
    assert.deepEqual(sorted(names.markers), sorted(registry.markers), when);
  }
});

void test('the names cover the formats: TF.js, ONNX, Keras, PyTorch and the dumps; SavedModel needs tfjs-node', () => {
  assert.deepEqual(sorted(registry.markers), ['model.json']);
  assert.deepEqual(sorted(registry.extensions), [
    '.ckpt',
    '.h5',
    '.hdf5',
    '.keras',
    '.npy',
    '.npz',
    '.onnx',
    '.pt',
    '.pth',
    '.safetensors',
  ]);
});
