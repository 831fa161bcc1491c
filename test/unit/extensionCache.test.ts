import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { canonicalJson, hashFiles, hashProbe } from '../../src/core/io/contentHash';
import { resultCacheKey, RESULT_FORMAT } from '../../src/extension/logic/cacheKey';
import { UserError } from '../../src/core/errors';
import { modelContentFiles } from '../../src/core/capture/registry';

const sha = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'memlens-cache-'));
}

void test('canonical JSON sorts keys at every level and drops undefined', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: 'x' }, u: undefined }),
    '{"a":{"c":"x","d":[2,{"y":null,"z":1}]},"b":1}',
  );
  assert.equal(canonicalJson({ x: 1, y: 2 }), canonicalJson({ y: 2, x: 1 }));
});

void test('the cache key is the SHA-256 of the hand-written canonical text', () => {
  const key = resultCacheKey({ modelSha256: 'aa', probeSha256: null, params: { k: 3, bins: 100 } });
  const text = `{"format":${RESULT_FORMAT},"modelSha256":"aa","params":{"bins":100,"k":3},"probeSha256":null}`;
  assert.equal(key, sha(text));
  assert.notEqual(
    key,
    resultCacheKey({ modelSha256: 'aa', probeSha256: null, params: { k: 4, bins: 100 } }),
  );
  assert.notEqual(
    key,
    resultCacheKey({ modelSha256: 'aa', probeSha256: 'bb', params: { k: 3, bins: 100 } }),
  );
});

void test('a TF.js model is model.json plus every weight shard of its manifest', async () => {
  const dir = tempDir();
  try {
    const manifest = {
      modelTopology: {},
      weightsManifest: [
        { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [] },
        { paths: ['w2.bin'], weights: [] },
      ],
    };
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(manifest));
    for (const shard of ['group1-shard1of2.bin', 'group1-shard2of2.bin', 'w2.bin'])
      writeFileSync(path.join(dir, shard), '');
    assert.deepEqual(await modelContentFiles(path.join(dir, 'model.json')), [
      path.join(dir, 'model.json'),
      path.join(dir, 'group1-shard1of2.bin'),
      path.join(dir, 'group1-shard2of2.bin'),
      path.join(dir, 'w2.bin'),
    ]);
    // A folder stands for its model.json; any other file is itself.
    assert.equal((await modelContentFiles(dir))[0], path.join(dir, 'model.json'));
    writeFileSync(path.join(dir, 'm.onnx'), 'x');
    assert.deepEqual(await modelContentFiles(path.join(dir, 'm.onnx')), [path.join(dir, 'm.onnx')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('content hash covers names, sizes and bytes of every file; a changed shard changes it', async () => {
  const dir = tempDir();
  try {
    const a = path.join(dir, 'model.json');
    const b = path.join(dir, 'weights.bin');
    writeFileSync(a, '{"m":1}');
    writeFileSync(b, Buffer.from([1, 2, 3]));
    const expected = createHash('sha256')
      .update('model.json\0' + '7\0')
      .update('{"m":1}')
      .update('weights.bin\0' + '3\0')
      .update(Buffer.from([1, 2, 3]))
      .digest('hex');
    assert.equal(await hashFiles([a, b]), expected);
    writeFileSync(b, Buffer.from([1, 2, 4]));
    assert.notEqual(await hashFiles([a, b]), expected);
    await assert.rejects(
      hashFiles([path.join(dir, 'missing.bin')]),
      (err: unknown) => err instanceof UserError && /missing\.bin/.test(err.message),
    );
    // A FIFO would block the read forever: refused before it is opened.
    execFileSync('mkfifo', [path.join(dir, 'pipe.npy')]);
    await assert.rejects(
      hashFiles([path.join(dir, 'pipe.npy')]),
      (err: unknown) =>
        err instanceof UserError &&
        /pipe\.npy: expected a regular file, found a special file/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a probe folder hashes its sorted listing (relative name, size, mtime)', async () => {
  const dir = tempDir();
  try {
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'b.png'), 'bb');
    writeFileSync(path.join(dir, 'sub', 'a.png'), 'a');
    utimesSync(path.join(dir, 'b.png'), 1000, 1000);
    utimesSync(path.join(dir, 'sub', 'a.png'), 2000, 2000);
    const rows = [
      `b.png\0${2}\0${1000000}`,
      `${path.join('sub', 'a.png')}\0${1}\0${2000000}`,
    ].sort();
    assert.equal(await hashProbe(dir), sha(rows.join('\n')));
    // A file probe is its content hash.
    assert.equal(
      await hashProbe(path.join(dir, 'b.png')),
      await hashFiles([path.join(dir, 'b.png')]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
