// Parsers that never mislead: every malformed input is a one-line UserError naming the file,
// what was expected and what was found, quoting at most a short printable excerpt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { excerpt, MAX_MESSAGE, oneLine, UserError } from '../../src/core/errors';
import { parseNpy, parseNpyHeader } from '../../src/core/io/npy';
import { parseSafetensors } from '../../src/core/io/safetensors';
import { jsonDepth, MAX_JSONL_DEPTH, parseCsv, parseJsonl } from '../../src/core/probe/text';

/** Asserts a one-line, printable UserError of at most MAX_MESSAGE chars containing `pattern`. */
function refuses(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `not a UserError: ${String(err)}`);
    const m = err.message;
    assert.ok(!/[\n\r]/.test(m), `multi-line: ${m}`);
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(m), `unprintable: ${m}`);
    assert.ok(m.length <= MAX_MESSAGE, `${m.length} chars`);
    assert.match(m, pattern);
    return true;
  });
}

void test('oneLine and excerpt: one printable line, capped', () => {
  assert.equal(oneLine('a\n  b\r\n\tc'), 'a b c');
  assert.equal(
    oneLine('red \x1b[31m bell \x07 bidi \u202e nul \0'),
    'red ?[31m bell ? bidi ? nul ?',
  );
  assert.equal(oneLine('x'.repeat(400)).length, MAX_MESSAGE);
  assert.ok(oneLine('x'.repeat(400)).endsWith('...'));
  assert.equal(excerpt('  short  '), 'short');
  assert.equal(excerpt('y'.repeat(100), 10), 'yyyyyyy...');
  // A surrogate pair is never cut in half.
  assert.equal(excerpt('ab\u{1F600}cde', 6), 'ab...');
  assert.equal(new UserError('f.csv: line 1\nline 2').message, 'f.csv: line 1 line 2');
  assert.equal(new UserError('z'.repeat(100_000)).message.length, MAX_MESSAGE);
});

/** A .safetensors file from a header text and data bytes. */
function st(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
const f32 = (...v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);
const entry = (fields: string): string => `{"x": {${fields}}}`;

void test('safetensors: the header is validated in full, with one-line errors', () => {
  const p =
    (header: string, data = f32(1)) =>
    () =>
      parseSafetensors(st(header, data), 'a.st');
  refuses(p('null'), /^a\.st: expected the \.safetensors header to be a JSON object, found null$/);
  refuses(p('[1, 2]'), /header to be a JSON object, found an array of 2$/);
  refuses(p('"x"'), /found the string 'x'$/);
  refuses(
    p('{"x": null}'),
    /tensor 'x': expected an object \{dtype, shape, data_offsets\}, found null/,
  );
  refuses(p('{"x": [1]}'), /tensor 'x': expected an object .*, found an array of 1/);
  refuses(
    p(entry('"dtype": "F32", "data_offsets": [0, 4]')),
    /tensor 'x': expected a 'shape' field, found none/,
  );
  refuses(p(entry('"shape": [1], "data_offsets": [0, 4]')), /expected a 'dtype' field/);
  refuses(p(entry('"dtype": "F32", "shape": [1]')), /expected a 'data_offsets' field/);
  refuses(
    p(entry('"dtype": 7, "shape": [1], "data_offsets": [0, 4]')),
    /expected a string dtype, found number 7/,
  );
  refuses(
    p(entry('"dtype": "F33", "shape": [1], "data_offsets": [0, 4]')),
    /expected a safetensors dtype .*found 'F33'/,
  );
  refuses(
    p(entry('"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]')),
    /expected a shape of non-negative integers, found a dimension number -1/,
  );
  refuses(
    p(entry('"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]')),
    /found a dimension number 1\.5/,
  );
  refuses(
    p(entry('"dtype": "F32", "shape": "4", "data_offsets": [0, 4]')),
    /shape of non-negative integers, found the string '4'/,
  );
  refuses(
    p(entry('"dtype": "F32", "shape": [1], "data_offsets": [0]')),
    /expected data_offsets \[begin, end\] .*found an array of 1/,
  );
  refuses(
    p(entry('"dtype": "F32", "shape": [1], "data_offsets": [0, null]')),
    /found \[number 0, null\]/,
  );
  refuses(
    p(entry('"dtype": "F32", "shape": [0], "data_offsets": [4, 0]')),
    /within the 4 data bytes with begin <= end, found \[4, 0\]/,
  );
  refuses(p(entry('"dtype": "F32", "shape": [1], "data_offsets": [4, 8]')), /found \[4, 8\]/);
  // dtype x shape must match the byte range, even for huge shapes (no overflow).
  refuses(
    p(entry('"dtype": "F32", "shape": [2], "data_offsets": [0, 4]')),
    /tensor 'x' F32\[2\] needs 8 bytes, found offsets 0-4/,
  );
  refuses(
    p(
      entry(
        '"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 4]',
      ),
    ),
    /needs more than 4 bytes/,
  );
  // An unread dtype is still checked for its size, then refused by name.
  refuses(
    p(entry('"dtype": "I32", "shape": [1], "data_offsets": [0, 4]')),
    /tensor 'x' has dtype I32: expected F32, F64, F16 or BF16/,
  );
  // Two tensors over the same bytes.
  refuses(
    p(
      '{"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "y": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}',
      f32(1, 2, 3),
    ),
    /expected tensors in separate bytes, found 'x' \(0-8\) overlapping 'y' \(4-12\)/,
  );
  // __metadata__: a map of strings; order without duplicates, naming tensors of the file.
  const one = '"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}';
  refuses(
    p(`{"__metadata__": [], ${one}}`),
    /expected __metadata__ to be an object of strings, found an array of 0/,
  );
  refuses(
    p(`{"__metadata__": {"order": ["x"]}, ${one}}`),
    /expected __metadata__ values to be strings, found an array of 1 for 'order'/,
  );
  refuses(
    p(`{"__metadata__": {"order": "x, x"}, ${one}}`),
    /__metadata__\.order names 'x' twice: expected each tensor at most once/,
  );
  refuses(
    p(`{"__metadata__": {"order": "y"}, ${one}}`),
    /__metadata__\.order names 'y', which is not a tensor/,
  );
  // A 200 KB broken header is quoted in a few characters, raw bytes never.
  refuses(p('{"x\n' + 'A'.repeat(200_000)), /found invalid JSON starting '\{"x AAAA.*\.\.\.'$/);
  refuses(
    () => parseSafetensors(st('{}').fill(0xff, 8), 'b.st'),
    /expected a UTF-8 JSON \.safetensors header, found invalid UTF-8/,
  );

  // Valid: empty tensors take no bytes and never overlap; an ordered pair reads as written.
  const ok = parseSafetensors(
    st(
      '{"__metadata__": {"order": "b,a"}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1, 0], "data_offsets": [4, 4]}}',
      f32(2.5),
    ),
    'ok.st',
  );
  assert.deepEqual(
    ok.map((t) => [t.name, t.shape, Array.from(t.data)]),
    [
      ['b', [1, 0], []],
      ['a', [1], [2.5]],
    ],
  );
});

/** A version-1 .npy with the header text as given. */
function npy(header: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

void test('.npy header: parsed as the Python dict it is, exactly three keys', () => {
  const h = (text: string) => parseNpyHeader(text, 'a.npy');
  assert.deepEqual(h("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }    \n"), {
    descr: '<f4',
    fortranOrder: false,
    shape: [3, 2],
  });
  assert.deepEqual(h('{"shape":(),"fortran_order":True,"descr":"<f8"}').shape, []);
  assert.deepEqual(h("{'descr': '|u1', 'fortran_order': False, 'shape': (7,)}").shape, [7]);
  // Python 2 wrote long integers with an L suffix.
  assert.deepEqual(
    h("{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 2L), }").shape,
    [3, 2],
  );

  // A 'shape' inside another key's string used to win over the real one.
  const fake = `{'descr': '<f4', 'note': "'shape': (1,)", 'fortran_order': False, 'shape': (2,), }\n`;
  refuses(
    () => parseNpy(npy(fake, new Uint8Array(8)), 'fake.npy'),
    /^fake\.npy: malformed \.npy header: expected one of the keys descr, fortran_order, shape at character 17, found ''note'/,
  );
  // And inside descr itself: the real shape is read, the descr refused by name.
  refuses(
    () =>
      parseNpy(
        npy(`{'descr': "'shape': (9,)", 'fortran_order': False, 'shape': (2,)}`, new Uint8Array(8)),
        'd.npy',
      ),
    /d\.npy: unsupported dtype ''shape': \(9,\)'/,
  );
  refuses(
    () => h("{'descr': '<f4', 'fortran_order': False, 'shape': (3), }"),
    /expected ',' after the only dimension/,
  );
  refuses(
    () => h("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"),
    /expected a non-negative integer at character 51, found '-1,\)\}'/,
  );
  refuses(
    () => h("{'descr': '<f4', 'fortran_order': False, 'shape': (0x10,)}"),
    /expected a non-negative integer/,
  );
  refuses(
    () => h("{'descr': '<f4', 'fortran_order': False, 'shape': (1_0,)}"),
    /expected a non-negative integer/,
  );
  refuses(
    () => h("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"),
    /a dimension below 2\^53/,
  );
  refuses(
    () => h("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,)}"),
    /expected a string, True, False or a tuple of integers at character 34/,
  );
  refuses(
    () => h("{'descr': '<f4', 'fortran_order': False, 'shape': '3'}"),
    /expected shape to be a tuple of integers, found the string '3'/,
  );
  refuses(
    () => h("{'descr': True, 'fortran_order': False, 'shape': (3,)}"),
    /expected descr to be a string, found True/,
  );
  refuses(
    () => h("{'descr': '<f4', 'fortran_order': 'no', 'shape': (3,)}"),
    /expected fortran_order to be True or False/,
  );
  refuses(
    () => h("{'descr': '<f4', 'fortran_order': False}"),
    /expected the keys descr, fortran_order and shape, found no shape/,
  );
  refuses(
    () => h("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (3,)}"),
    /each key once \(descr is repeated\)/,
  );
  refuses(
    () => h("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}"),
    /expected a string, True, False or a tuple/,
  );
  refuses(
    () => h("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (3,)}"),
    /a plain quoted string/,
  );
  refuses(
    () => h("{'descr': '<f4' 'fortran_order': False, 'shape': (3,)}"),
    /expected ',' or '\}'/,
  );
  refuses(
    () => h("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} junk"),
    /only padding after the closing brace/,
  );
  refuses(() => h("['descr']"), /expected '\{' \(a Python dict\) at character 0/);
  refuses(
    () => h("{'descr': '<f4'"),
    /expected ',' or '\}' at character 15, found the end of the header/,
  );
  // A 60 KB header full of escape sequences: a short printable excerpt only.
  refuses(
    () =>
      parseNpy(
        npy(
          `{'descr': '<f4', 'fortran_order': False, 'shape': 3, 'x': '${'\x1b[31m'.repeat(12_000)}'}\n`,
          new Uint8Array(12),
        ),
        'big.npy',
      ),
    /big\.npy: malformed \.npy header: expected a string, True, False or a tuple of integers at character 50, found '3, 'x': '\?\[31m.*\.\.\.'$/,
  );
});

void test('CSV probes: decimal numbers only, a header only when no cell is a number, and said so', () => {
  const notices: string[] = [];
  const csv = (text: string) => parseCsv(text, 'p.csv', (m) => notices.push(m));
  assert.deepEqual(csv('f1,f2\n1,-2.5\n.5,3e-1\n+4.,1E2\n'), {
    shape: [3, 2],
    data: [1, -2.5, 0.5, 0.3, 4, 100],
  });
  assert.deepEqual(notices, [
    "p.csv: line 1 taken as a header (none of its 2 cells is a number): 'f1,f2'",
  ]);
  notices.length = 0;
  // No header: no notice; a byte-order mark is not a cell's content.
  assert.deepEqual(csv('\uFEFF1,2\n3,4\n').data, [1, 2, 3, 4]);
  assert.deepEqual(notices, []);
  // A first row with one bad cell used to be dropped silently as a header.
  assert.throws(
    () => csv('1,abc\n2,3\n'),
    (e: unknown) => e instanceof UserError,
  );
  refuses(
    () => csv('1,abc\n2,3\n'),
    /^p\.csv: line 1: expected numeric cells, found 'abc' in column 2 \(decimal numbers only; not a header either: a header has no numeric cell, this line has 1 of 2\)$/,
  );
  // 0x10 used to be read as 16; 1_000, Infinity, empty cells likewise refused.
  refuses(
    () => csv('1,2\n0x10,3\n'),
    /^p\.csv: line 2: expected numeric cells, found '0x10' in column 1 \(decimal numbers only, e\.g\. -1\.5e-3\)$/,
  );
  refuses(() => csv('1,2\n3,1_000\n'), /line 2: expected numeric cells, found '1_000' in column 2/);
  refuses(
    () => csv('1,2\n3,Infinity\n'),
    /found Infinity in example 1 \(value 1\) at line 2, column 2/,
  );
  refuses(
    () => csv('1,2\n3,\n'),
    /line 2: expected numeric cells, found an empty cell in column 2/,
  );
  refuses(() => csv('1,2\n3, 4 5\n'), /found '4 5' in column 2/);
  refuses(() => csv('1,2\n3,1e\n'), /found '1e' in column 2/);
  // nan/inf (as numpy writes them) are refused as non-finite values, with their position.
  refuses(
    () => csv('a,b\n1,2\n3,nan\n'),
    /^p\.csv: expected finite probe values, found NaN in example 1 \(value 1\) at line 3, column 2$/,
  );
  refuses(() => csv('-inf,2\n'), /found -Infinity in example 0 \(value 0\) at line 1, column 1/);
  // A header made of nan cells is no header: they read as numbers.
  refuses(() => csv('nan,inf\n1,2\n'), /found NaN in example 0/);
  // Tabs as separator; the header rule is the same.
  assert.deepEqual(csv('x\ty\n1\t2\n').data, [1, 2]);
});

void test('JSONL probes: nesting bounded before JSON.parse, short quotes', () => {
  assert.equal(jsonDepth('[[1, 2], {"a": "[[[["}]'), 2);
  assert.equal(jsonDepth('"\\"[["'), 0);
  assert.equal(jsonDepth('[[[[', 2), 3); // stops past the limit
  const deep = '['.repeat(200_000) + '1' + ']'.repeat(200_000);
  refuses(
    () => parseJsonl(`[1]\n${deep}\n`, 'p.jsonl'),
    new RegExp(
      `^p\\.jsonl: line 2: expected arrays nested at most ${MAX_JSONL_DEPTH} deep, found more than ${MAX_JSONL_DEPTH} levels$`,
    ),
  );
  // At the limit it parses.
  const atLimit = '['.repeat(MAX_JSONL_DEPTH) + '1' + ']'.repeat(MAX_JSONL_DEPTH);
  assert.equal(parseJsonl(atLimit, 'p.jsonl').shape.length, MAX_JSONL_DEPTH + 1);
  refuses(
    () => parseJsonl('[1, 2]\n{"input": [1, "\\u001b[2J' + 'x'.repeat(500) + '"]}\n', 'p.jsonl'),
    /line 2: expected a number, found the string '\?\[2Jx+\.\.\.'$/,
  );
  refuses(() => parseJsonl(`[1, \n`, 'p.jsonl'), /line 1: expected JSON, found '\[1,'$/);
  refuses(
    () => parseJsonl(`{"input": [1, 2]}\n{"input": [[1], [2]]}\n`, 'p.jsonl'),
    /line 2: expected an example of shape \[2\]/,
  );
});
