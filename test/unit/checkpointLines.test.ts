import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findCheckpointSaves, mentionsSaveCallee } from '../../src/core/training/checkpointLines';
import type { ScriptLanguage } from '../../src/core/training/checkpointLines';
import { modelFilesGlob, savedFilesMatching } from '../../src/core/training/savedFiles';

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
    // filepath="ckpt/weights.{epoch:02d}.keras": Keras fills in the epoch, so unknown.
    [12, 'ModelCheckpoint', 'keras.callbacks.ModelCheckpoint', null],
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

/** [0-based line, reason, glob] of each finding whose saved path is unknown. */
function unresolvedRows(
  found: ReturnType<typeof findCheckpointSaves>,
): [number, string, string | null][] {
  return found.flatMap((f) =>
    f.unresolved ? [[f.line, f.unresolved.reason, f.unresolved.glob]] : [],
  );
}

void test("the fixtures' unknown paths: why, and the glob of their files relative to the script", () => {
  assert.deepEqual(unresolvedRows(scan('train_torch.py', 'python')), [
    [24, 'the path depends on `path`, a parameter of `save`', null],
    // f"{OUT_DIR}/epoch_{epoch}.pt", OUT_DIR = <script folder>/checkpoints.
    [35, 'the path depends on `epoch`, a loop variable', 'checkpoints/epoch_*.pt'],
  ]);
  assert.deepEqual(unresolvedRows(scan('train_keras.py', 'python')), [
    [
      12,
      'the path is a format pattern {epoch:02d}, filled in by Keras at each save',
      'ckpt/weights.*.keras',
    ],
  ]);
  assert.deepEqual(unresolvedRows(scan('train_hf.py', 'python')), [
    [22, 'the path depends on `sys.argv[1]`, a command-line argument', null],
  ]);
  // `file://${target}/step-${step}`, target = join(__dirname, '..', 'models', RUN).
  assert.deepEqual(unresolvedRows(scan('train_tfjs.ts', 'typescript')), [
    [
      8,
      'the path depends on `step`, a parameter of `trainAndSave`',
      '../models/random-labels/step-*',
    ],
  ]);
  for (const f of scan('train_tfjs.js', 'javascript')) assert.equal(f.unresolved, null);
});

void test('loop variables: the glob stands for the loop, even over an earlier constant or a JS for initialiser', () => {
  const py = [
    'import torch',
    'epoch = 0',
    'for epoch in range(10):',
    '    torch.save(model.state_dict(), f"ckpt/epoch_{epoch}.pt")',
  ].join('\n');
  const [found] = findCheckpointSaves(py, 'python', '/w/train.py');
  assert.equal(found.savedPath, null);
  assert.deepEqual(found.unresolved, {
    reason: 'the path depends on `epoch`, a loop variable',
    glob: 'ckpt/epoch_*.pt',
  });
  const js = [
    "const tf = require('@tensorflow/tfjs');",
    'async function run(model) {',
    '  for (let epoch = 1; epoch <= 3; epoch++) {',
    '    await model.save(`file://ckpt/e${epoch}`);',
    '  }',
    '}',
  ].join('\n');
  assert.deepEqual(unresolvedRows(findCheckpointSaves(js, 'javascript', '/w/train.js')), [
    [3, 'the path depends on `epoch`, a loop variable', 'ckpt/e*'],
  ]);
});

void test('a parameter is unknown inside its function only; CLI, environment, calls and format specs say so', () => {
  const script = [
    'import os, sys, torch',
    'out = "final.pt"',
    'def save_to(model, out):',
    '    torch.save(model, out)',
    '',
    'torch.save(model, out)',
    'dest = args.out',
    'torch.save(m, dest)',
    'torch.save(m, os.path.join(args.out_dir, "best.pt"))',
    'torch.save(m, os.environ["CKPT_DIR"] + "/m.pt")',
    'torch.save(m, make_path(epoch))',
    'step = 500',
    'torch.save(m, f"s{step:06d}.pt")',
    'torch.save(m, f"runs/{run}/m.pt")',
  ].join('\n');
  const found = findCheckpointSaves(script, 'python', '/w/train.py');
  assert.deepEqual(
    found.map((f) => f.savedPath),
    [null, '/w/final.pt', null, null, null, null, null, null],
  );
  assert.deepEqual(unresolvedRows(found), [
    [3, 'the path depends on `out`, a parameter of `save_to`', null],
    [7, 'the path depends on `args.out`, a command-line argument', null],
    // A leading unknown part could be any folder: no glob.
    [8, 'the path depends on `args.out_dir`, a command-line argument', null],
    [9, 'the path depends on `os.environ["CKPT_DIR"]`, an environment variable', null],
    [10, 'the path depends on `make_path(epoch)`, which is known only when the script runs', null],
    [12, 'the path depends on `step`, formatted with `:06d`', 's*.pt'],
    [13, 'the path depends on `run`, which the script does not assign', 'runs/*/m.pt'],
  ]);
});

void test('Keras ModelCheckpoint: {fields} are a pattern, {{ }} literal braces; a call without a path says so', () => {
  const script = [
    'from tensorflow import keras',
    'a = keras.callbacks.ModelCheckpoint("ckpt/{epoch:02d}.keras")',
    'b = keras.callbacks.ModelCheckpoint(f"ckpt/{{epoch:02d}}-{name}.keras")',
    'c = keras.callbacks.ModelCheckpoint("ckpt/{{run}}.keras")',
    'trainer.save_model()',
  ].join('\n');
  const found = findCheckpointSaves(script, 'python', '/w/train.py');
  assert.deepEqual(
    found.map((f) => f.savedPath),
    [null, null, '/w/ckpt/{run}.keras', null],
  );
  assert.deepEqual(unresolvedRows(found), [
    [
      1,
      'the path is a format pattern {epoch:02d}, filled in by Keras at each save',
      'ckpt/*.keras',
    ],
    [2, 'the path depends on `name`, which the script does not assign', 'ckpt/*-*.keras'],
    // No TrainingArguments(output_dir=...) in the script.
    [4, 'the call passes no path', null],
  ]);
});

void test('ORM saves get no lens: Django and Mongoose, even in a script that imports torch', () => {
  const django = [
    'from django.db import models',
    '',
    'def publish(article_model, obj):',
    '    article_model.save()',
    '    obj.save(update_fields=["title"])',
    '    article_model.save(update_fields=["title", "body"])',
  ].join('\n');
  assert.deepEqual(findCheckpointSaves(django, 'python', '/w/views.py'), []);
  assert.deepEqual(findCheckpointSaves('import torch\n' + django, 'python', '/w/views.py'), []);
  const mongoose = [
    "const mongoose = require('mongoose');",
    'async function add(User, name) {',
    '  const userModel = new User({ name });',
    '  await userModel.save();',
    '  await userModel.save({ validateBeforeSave: false });',
    '  userModel.save((err) => console.log(err));',
    '}',
  ].join('\n');
  assert.deepEqual(findCheckpointSaves(mongoose, 'javascript', '/w/users.js'), []);
  const withTf = "const tf = require('@tensorflow/tfjs-node');\n" + mongoose;
  assert.deepEqual(findCheckpointSaves(withTf, 'javascript', '/w/users.js'), []);
});

void test('model.save: an ML import makes any path argument count; without one, only a path-like argument', () => {
  const keras = ['import tensorflow as tf', "model.save('m.keras')", 'model.save(out)'].join('\n');
  const k = findCheckpointSaves(keras, 'python', '/w/train.py');
  assert.deepEqual(
    k.map((f) => [f.line, f.kind, f.savedPath]),
    [
      [1, 'model.save', '/w/m.keras'],
      [2, 'model.save', null],
    ],
  );
  assert.equal(
    k[1].unresolved?.reason,
    'the path depends on `out`, which the script does not assign',
  );
  const tfjs = [
    "const tf = require('@tensorflow/tfjs-node');",
    'async function keep(model, dest) {',
    "  await model.save('file://out');",
    '  await model.save(dest);',
    '}',
  ].join('\n');
  assert.deepEqual(
    findCheckpointSaves(tfjs, 'javascript', '/w/train.js').map((f) => [f.line, f.savedPath]),
    [
      [2, '/w/out'],
      [3, null],
    ],
  );
  // No ML import: the bare `dest` is not a path, `file://` or a .h5 string is.
  const noImport = tfjs.split('\n').slice(1).join('\n');
  assert.deepEqual(
    findCheckpointSaves(noImport, 'javascript', '/w/train.js').map((f) => [f.line, f.savedPath]),
    [[1, '/w/out']],
  );
  const py = [
    'model.save("ckpt/model.h5")',
    'model.save(os.path.join(out_dir, "m.h5"))',
    'model.save(f"ckpt/{step}.h5")',
    'model.save(Path("a") / name)',
    'model.save(dest)',
  ].join('\n');
  assert.deepEqual(
    findCheckpointSaves(py, 'python', '/w/train.py').map((f) => [
      f.line,
      f.savedPath,
      f.unresolved?.glob ?? null,
    ]),
    [
      [0, '/w/ckpt/model.h5', null],
      [1, null, null],
      [2, null, 'ckpt/*.h5'],
      [3, null, 'a/*'],
    ],
  );
});

void test('the pre-check: a script naming no save callee is not tokenised; every fixture passes it', () => {
  const big = Array.from(
    { length: 50_000 },
    (_, i) => `x${i} = model.save_weights(f"w{i}.h5") if saved else plt.savefig("f.png")`,
  ).join('\n');
  assert.equal(mentionsSaveCallee(big), false);
  assert.deepEqual(findCheckpointSaves(big, 'python', '/w/big.py'), []);
  for (const word of [
    'torch.save(',
    'save_pretrained',
    'save_model',
    'ModelCheckpoint',
    'save_file',
  ])
    assert.equal(mentionsSaveCallee(`a\n  ${word}\n`), true, word);
  for (const file of readdirSync(FIXTURES))
    assert.equal(mentionsSaveCallee(readFileSync(path.join(FIXTURES, file), 'utf8')), true, file);
});

void test("saved files matching a glob: model files and model folders' markers, newest first", () => {
  const root = mkdtempSync(path.join(tmpdir(), 'memlens-glob-'));
  try {
    const file = (rel: string, mtimeS: number): void => {
      const p = path.join(root, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, '');
      utimesSync(p, mtimeS, mtimeS);
    };
    file('ckpt/epoch_1.pt', 1000);
    file('ckpt/epoch_2.pt', 3000);
    file('ckpt/epoch_10.pt', 2000);
    file('ckpt/epoch_3.txt', 4000);
    file('ckpt/other_1.pt', 5000);
    file('tfjs/e1/model.json', 1500);
    file('tfjs/e2/weights.bin', 2500);
    file('scripts/train.py', 0);
    // Only .pt files, and folders holding a model.json (as the extension's mapping does).
    const modelFile = (match: string, isDirectory: boolean): string | null =>
      isDirectory ? path.join(match, 'model.json') : match.endsWith('.pt') ? match : null;
    const rel = (glob: string, base = root) =>
      savedFilesMatching(base, glob, modelFile).map((f) => [
        path.relative(root, f.path),
        f.mtimeMs,
      ]);
    assert.deepEqual(rel('ckpt/epoch_*.pt'), [
      ['ckpt/epoch_2.pt', 3_000_000],
      ['ckpt/epoch_10.pt', 2_000_000],
      ['ckpt/epoch_1.pt', 1_000_000],
    ]);
    // tfjs/e2 has no model.json: dropped. A glob relative to a sub-folder may climb out of it.
    assert.deepEqual(rel('../tfjs/e*', path.join(root, 'scripts')), [
      ['tfjs/e1/model.json', 1_500_000],
    ]);
    assert.deepEqual(rel('runs/*/m.pt'), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

void test('the watcher glob names each analysable extension and marker once', () => {
  assert.equal(modelFilesGlob(['.onnx', '.pt'], ['model.json']), '**/{*.onnx,*.pt,model.json}');
  assert.equal(modelFilesGlob(['.keras'], []), '**/*.keras');
});

void test('ML imports that make a bare model.save(variable) count, and look-alikes that do not', () => {
  const counts = (header: string, language: ScriptLanguage, call: string): number =>
    findCheckpointSaves(`${header}\n${call}\n`, language, '/w/train').length;
  for (const header of [
    'import os, torch',
    'import torch.nn as nn',
    'from keras import layers',
    'from sklearn.linear_model import LogisticRegression',
    'import jax.numpy as jnp',
    'from pytorch_lightning import Trainer',
  ])
    assert.equal(counts(header, 'python', 'model.save(out)'), 1, header);
  for (const header of [
    'import os',
    'from .torch import x',
    'import torchvision',
    '# import torch',
  ])
    assert.equal(counts(header, 'python', 'model.save(out)'), 0, header);
  for (const header of [
    "import * as tf from '@tensorflow/tfjs-node-gpu';",
    "import * as ort from 'onnxruntime-web';",
    "const ort = await import('onnxruntime-node');",
    "const tf = require('@tensorflow/tfjs');",
  ])
    assert.equal(counts(header, 'javascript', 'model.save(out);'), 1, header);
  for (const header of [
    "const tf = require('tensorflow-lookalike');",
    "const msg = '@tensorflow/tfjs';",
  ])
    assert.equal(counts(header, 'javascript', 'model.save(out);'), 0, header);
});

void test('JS/TS parameters: of a method with a return type, of a named arrow function, of a callback', () => {
  const ts = [
    "import * as tf from '@tensorflow/tfjs';",
    'class Saver {',
    '  async keep(model: tf.LayersModel, dir: string): Promise<void> {',
    '    await model.save(`file://${dir}/m`);',
    '  }',
    '}',
    'const keepRun = async (model, run) => model.save(`file://out/${run}`);',
    'runs.forEach((name) => model.save(`file://out/${name}`));',
  ].join('\n');
  assert.deepEqual(unresolvedRows(findCheckpointSaves(ts, 'typescript', '/w/train.ts')), [
    [3, 'the path depends on `dir`, a parameter of `keep`', null],
    [6, 'the path depends on `run`, a parameter of `keepRun`', 'out/*'],
    [7, 'the path depends on `name`, a function parameter', 'out/*'],
  ]);
});
