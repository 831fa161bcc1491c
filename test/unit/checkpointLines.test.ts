import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { findCheckpointSaves } from '../../src/core/training/checkpointLines';
import type { ScriptLanguage } from '../../src/core/training/checkpointLines';

const FIXTURES = path.resolve(__dirname, '../../test/fixtures/scripts');

function scan(file: string, language: ScriptLanguage) {
  const scriptPath = path.join(FIXTURES, file);
  return findCheckpointSaves(readFileSync(scriptPath, 'utf8'), language, scriptPath);
}

/** Expected rows: [0-based line, kind, call, saved path relative to the fixtures folder or null]. */
type Row = [number, string, string, string | null];

function assertRows(actual: ReturnType<typeof scan>, expected: Row[]): void {
  assert.deepEqual(
    actual.map((f) => [f.line, f.kind, f.call, f.savedPath]),
    expected.map(([line, kind, call, rel]) => [
      line,
      kind,
      call,
      rel === null ? null : path.join(FIXTURES, rel),
    ]),
  );
}

void test('PyTorch script: multi-line call, os.path.join, pathlib, f-strings; comments, docstrings and strings ignored', () => {
  assertRows(scan('train_torch.py', 'python'), [
    // Inside `def save(self, path)`: the path is a parameter, so unknown.
    [24, 'torch.save', 'torch.save', null],
    // Multi-line call; the f-string uses the loop variable `epoch`: unknown.
    [35, 'torch.save', 'torch.save', null],
    [40, 'torch.save', 'torch.save', 'checkpoints/final.pt'],
    // f= keyword; BEST = Path(__file__).parent / "best" / f"{RUN_NAME}.pt".
    [41, 'torch.save', 'torch.save', 'best/mlp-shortcut.pt'],
    [42, 'torch.save', 'torch.save', 'checkpoints/mlp-shortcut_last.pt'],
  ]);
});

void test('Keras script: ModelCheckpoint, model.save with a variable, saved_model with concatenation, models.save_model', () => {
  assertRows(scan('train_keras.py', 'python'), [
    [12, 'ModelCheckpoint', 'keras.callbacks.ModelCheckpoint', 'ckpt/weights.{epoch:02d}.keras'],
    [19, 'model.save', 'model.save', 'models/keras_digits.keras'],
    [22, 'tf.saved_model.save', 'tf.saved_model.save', 'export/digits_savedmodel'],
    [23, 'model.save', 'keras.models.save_model', 'models/final.h5'],
  ]);
});

void test('Hugging Face script: Trainer output_dir fallback, save_pretrained, safetensors; tokenizer saves ignored', () => {
  assertRows(scan('train_hf.py', 'python'), [
    [14, 'trainer.save_model', 'trainer.save_model', 'runs/imdb-shortcut'],
    [15, 'trainer.save_model', 'trainer.save_model', 'runs/imdb-shortcut/final'],
    [16, 'save_pretrained', 'model.save_pretrained', 'runs/imdb-shortcut/hf'],
    [21, 'safetensors.save_file', 'save_file', 'runs/imdb-shortcut/model.safetensors'],
    [22, 'safetensors.save_file', 'save_file', null],
  ]);
});

void test('TF.js Node script: file:// template literal and path.join; comments, strings, regex and indexeddb ignored', () => {
  const found = scan('train_tfjs.js', 'javascript');
  assertRows(found, [
    [16, 'model.save', 'model.save', 'models/shortcut'],
    [17, 'model.save', 'model.save', 'models/generalising'],
  ]);
  // "  await model.save(`file://${outDir}`);": callee at column 8, `)` at column 37.
  assert.equal(found[0].column, 8);
  assert.equal(found[0].endColumn, 38);
  // A call spanning lines ends at the end of its first line: "  await model.save(" is 19 long.
  assert.equal(found[1].endColumn, 19);
});

void test('TypeScript script: imported join, typed const, unknown template parts', () => {
  assertRows(scan('train_tfjs.ts', 'typescript'), [
    [8, 'model.save', 'model.save', null],
    [9, 'model.save', 'model.save', '../models/random-labels'],
  ]);
});

void test('the latest assignment before the call wins; later ones do not leak backwards', () => {
  const script = [
    'out = "a.pt"',
    'torch.save(m, out)',
    'out = "b.pt"',
    'torch.save(m, out)',
    '',
  ].join('\n');
  const found = findCheckpointSaves(script, 'python', '/work/run/train.py');
  assert.deepEqual(
    found.map((f) => f.savedPath),
    ['/work/run/a.pt', '/work/run/b.pt'],
  );
});

void test('Python strings containing # and quotes do not hide or create calls', () => {
  const script = [
    'tag = "#1 \\" torch.save(x, \'no.pt\')"',
    "name = r'C:\\tmp' + '#'",
    "torch.save(model, 'ok.pt')  # torch.save(model, 'no.pt')",
    "print('''",
    "torch.save(model, 'inside_triple.pt')",
    "''')",
    'torch.save(model, f"{{literal}}-{tag}.pt")',
  ].join('\n');
  const found = findCheckpointSaves(script, 'python', '/w/train.py');
  assert.deepEqual(
    found.map((f) => [f.line, f.savedPath]),
    [
      [2, '/w/ok.pt'],
      [6, "/w/{literal}-#1 \" torch.save(x, 'no.pt').pt"],
    ],
  );
});

void test('absolute paths stay absolute, and format specs make an f-string unknown', () => {
  const script = [
    'step = 500',
    'torch.save(m, "/data/ckpt.pt")',
    'torch.save(m, f"s{step:06d}.pt")',
    'torch.save(m, f"s{step}.pt")',
  ].join('\n');
  const found = findCheckpointSaves(script, 'python', '/w/train.py');
  assert.deepEqual(
    found.map((f) => f.savedPath),
    ['/data/ckpt.pt', null, '/w/s500.pt'],
  );
});

void test('scripts without saves, and unrelated .save calls, give nothing', () => {
  const py = [
    'img.save("x.png")',
    'np.save("a.npy", a)',
    'fig.savefig("f.png")',
    'Image.open(p).save("y.png")',
  ].join('\n');
  assert.deepEqual(findCheckpointSaves(py, 'python', '/w/a.py'), []);
  const js = [
    'class Store { save(path) { return path; } }',
    'store.save("x");',
    'doc.save();',
  ].join('\n');
  assert.deepEqual(findCheckpointSaves(js, 'javascript', '/w/a.js'), []);
});
