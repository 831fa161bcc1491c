// The seeded mutator of the fuzzer (test/fuzz/cases.ts, test/fuzz/run.ts): byte-level mutations
// (bit flips, interesting bytes and integers, truncation, insertion, duplication and deletion of
// chunks), structural mutations of JSON values (delete or rename a key, change a type, huge
// numbers, long strings, deep nesting, path escapes) and of text lines (CSV, JSONL). Every
// function takes a FuzzRng, so one seed gives one mutation, on any machine; each returns a short
// description that names the mutation in a failure report.

/** A small seeded PRNG (mulberry32): the same seed gives the same stream everywhere. */
export class FuzzRng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 2 ** 32;
  }

  /** Uniform integer in [0, n); 0 when n <= 0. */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Picks by weight: `[[w, value], ...]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((s, [w]) => s + w, 0);
    let x = this.float() * total;
    for (const [w, v] of items) {
      x -= w;
      if (x < 0) return v;
    }
    return items[items.length - 1][1];
  }
}

/** The seed of one case: a hash of the run's seed, the reader's name and the case's index. */
export function caseSeed(seed: number, reader: string, index: number): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  const mix = (x: number): void => {
    h = Math.imul(h ^ x, 0x01000193) >>> 0;
    h ^= h >>> 13;
  };
  for (let i = 0; i < reader.length; i++) mix(reader.charCodeAt(i));
  mix(index & 0xffff);
  mix(index >>> 16);
  mix(seed >>> 16);
  return Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
}

/** A mutated value and what was done to it. */
export interface Mutated<T> {
  value: T;
  desc: string;
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x20, 0x0a, 0x22, 0x2c, 0x7b, 0x5d];
/** Interesting integers, written 16, 32 or 64 bits wide (two's complement where negative). */
const INTERESTING_INTS: readonly bigint[] = [
  0n,
  1n,
  -1n,
  2n,
  0x7fn,
  0x80n,
  0xffn,
  0x100n,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x10000n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  2n ** 53n,
  2n ** 53n + 1n,
  0x7fffffffffffffffn,
  0x8000000000000000n,
];

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** A position in `[0, len)`, inside `hot` (a [start, end) range) with probability `hotP`. */
function position(rng: FuzzRng, len: number, hot?: readonly [number, number], hotP = 0.7): number {
  if (hot !== undefined && hot[1] > hot[0] && rng.chance(hotP)) {
    return Math.min(len - 1, hot[0] + rng.int(Math.min(hot[1], len) - hot[0]));
  }
  return rng.int(len);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface ByteOptions {
  /** The range [start, end) where most mutations land (a header, a table). */
  hot?: readonly [number, number];
  /** Leave out truncation (when another mutation already shortens the file). */
  noTruncate?: boolean;
}

type ByteOp = 'flip' | 'byte' | 'int' | 'truncate' | 'insert' | 'duplicate' | 'delete' | 'run';

/**
 * One byte-level mutation of `bytes` (a new array; the input is not changed): bit flips, an
 * interesting byte or integer (16/32/64-bit, little or big endian) overwritten, truncation,
 * random or interesting bytes inserted, a chunk duplicated (possibly many times) or deleted, a
 * run of 0x00 or 0xff.
 */
export function mutateBytes(
  rng: FuzzRng,
  bytes: Uint8Array,
  opts: ByteOptions = {},
): Mutated<Uint8Array> {
  const len = bytes.length;
  if (len === 0) {
    const ins = Uint8Array.from({ length: rng.range(1, 16) }, () => rng.pick(INTERESTING_BYTES));
    return { value: ins, desc: `insert ${ins.length} bytes into an empty file` };
  }
  const ops: [number, ByteOp][] = [
    [3, 'flip'],
    [3, 'byte'],
    [3, 'int'],
    [opts.noTruncate ? 0 : 2, 'truncate'],
    [1, 'insert'],
    [1.5, 'duplicate'],
    [1, 'delete'],
    [1, 'run'],
  ];
  const op = rng.weighted(ops);
  const out = new Uint8Array(bytes);
  const { hot } = opts;
  switch (op) {
    case 'flip': {
      const n = rng.range(1, 8);
      const at: string[] = [];
      for (let i = 0; i < n; i++) {
        const p = position(rng, len, hot);
        const bit = rng.int(8);
        out[p] ^= 1 << bit;
        at.push(`${p}.${bit}`);
      }
      return { value: out, desc: `flip bits ${at.join(',')}` };
    }
    case 'byte': {
      const p = position(rng, len, hot);
      const n = Math.min(rng.range(1, 4), len - p);
      const vals: number[] = [];
      for (let i = 0; i < n; i++) {
        out[p + i] = rng.pick(INTERESTING_BYTES);
        vals.push(out[p + i]);
      }
      return { value: out, desc: `overwrite bytes @${p} with ${vals.map(hex).join(' ')}` };
    }
    case 'int': {
      const width = rng.pick([2, 4, 8]);
      const p = Math.max(0, Math.min(position(rng, len, hot), len - width));
      const little = rng.chance(0.7);
      const v = rng.pick(INTERESTING_INTS);
      const bits = BigInt(width * 8);
      const u = ((v % (1n << bits)) + (1n << bits)) % (1n << bits);
      for (let i = 0; i < width && p + i < len; i++) {
        const shift = BigInt(8 * (little ? i : width - 1 - i));
        out[p + i] = Number((u >> shift) & 0xffn);
      }
      return {
        value: out,
        desc: `write int${width * 8}${little ? 'le' : 'be'} ${v} @${p}`,
      };
    }
    case 'truncate': {
      const to = rng.weighted<number>([
        [2, position(rng, len, hot)],
        [1, len - rng.range(1, Math.min(8, len))],
        [1, rng.int(Math.min(16, len))],
      ]);
      return { value: bytes.slice(0, to), desc: `truncate ${len} -> ${to} bytes` };
    }
    case 'insert': {
      const p = position(rng, len + 1, hot);
      const n = rng.weighted<number>([
        [3, rng.range(1, 8)],
        [1, rng.range(9, 512)],
      ]);
      const interesting = rng.chance(0.5);
      const ins = Uint8Array.from({ length: n }, () =>
        interesting ? rng.pick(INTERESTING_BYTES) : rng.int(256),
      );
      return {
        value: concat(bytes.subarray(0, p), ins, bytes.subarray(p)),
        desc: `insert ${n} ${interesting ? 'interesting' : 'random'} bytes @${p}`,
      };
    }
    case 'duplicate': {
      const a = position(rng, len, hot);
      const n = Math.min(len - a, rng.range(1, 1024));
      const to = position(rng, len + 1, hot);
      const times = rng.weighted<number>([
        [4, 1],
        [1, rng.range(2, 64)],
      ]);
      const chunk = bytes.subarray(a, a + n);
      const copies = concat(...Array.from({ length: times }, () => chunk));
      return {
        value: concat(bytes.subarray(0, to), copies, bytes.subarray(to)),
        desc: `duplicate ${n} bytes @${a} x${times} into @${to}`,
      };
    }
    case 'delete': {
      const a = position(rng, len, hot);
      const n = Math.min(len - a, rng.range(1, 256));
      return {
        value: concat(bytes.subarray(0, a), bytes.subarray(a + n)),
        desc: `delete ${n} bytes @${a}`,
      };
    }
    case 'run': {
      const a = position(rng, len, hot);
      const n = Math.min(len - a, rng.range(1, 256));
      const v = rng.pick([0x00, 0xff]);
      out.fill(v, a, a + n);
      return { value: out, desc: `overwrite ${n} bytes @${a} with ${hex(v)}` };
    }
  }
}

/** Applies `mutateBytes` 1-3 times (mostly once). */
export function mutateBytesStacked(
  rng: FuzzRng,
  bytes: Uint8Array,
  opts: ByteOptions = {},
): Mutated<Uint8Array> {
  const times = rng.weighted<number>([
    [6, 1],
    [2, 2],
    [1, 3],
  ]);
  let value = bytes;
  const descs: string[] = [];
  for (let i = 0; i < times; i++) {
    const m = mutateBytes(rng, value, opts);
    value = m.value;
    descs.push(m.desc);
  }
  return { value, desc: descs.join('; ') };
}

/** Strings that often break a reader: empty, huge, path escapes, special files, odd characters. */
export const INTERESTING_STRINGS: readonly string[] = [
  '',
  'x',
  ' ',
  '.',
  '..',
  '../',
  '../outside/weights.bin',
  '../../../../../../etc/passwd',
  '/etc/passwd',
  '/dev/zero',
  '/dev/stdin',
  '/proc/self/environ',
  'C:\\Windows\\win.ini',
  '\\\\server\\share\\x',
  'file:///etc/passwd',
  '%2e%2e/outside',
  'a\u0000b',
  '\u202e\u0007\u001b[31m',
  '\ud800',
  'null',
  'NaN',
  '-1',
  '1e999',
  '__proto__',
  'constructor',
  'A'.repeat(300),
];

/**
 * A placeholder for an array nested `depth` levels deep ([[[...]]]): a string that jsonText turns
 * into the nesting, since JSON.stringify and structuredClone would overflow the stack on it.
 */
const NEST = '\u0000nest:';
const nested = (depth: number): string => `${NEST}${depth}\u0000`;

/** JSON.stringify, with the deep-nesting placeholders (see `nested`) written out. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0000nest:(\d+)\\u0000"/g, (_, d: string) => {
    const n = Number(d);
    return '['.repeat(n) + ']'.repeat(n);
  });
}

/** Values that often break a reader of a JSON field, built fresh each time (they may be mutated). */
function interestingValue(rng: FuzzRng): Mutated<unknown> {
  const choices: [number, () => Mutated<unknown>][] = [
    [3, () => ({ value: null, desc: 'null' })],
    [1, () => ({ value: true, desc: 'true' })],
    [2, () => ({ value: 0, desc: '0' })],
    [2, () => ({ value: -1, desc: '-1' })],
    [1, () => ({ value: 0.5, desc: '0.5' })],
    [2, () => ({ value: 1e308, desc: '1e308' })],
    [1, () => ({ value: -1e308, desc: '-1e308' })],
    [2, () => ({ value: 2 ** 31, desc: '2^31' })],
    [2, () => ({ value: 2 ** 53 + 2, desc: '2^53+2' })],
    [1, () => ({ value: 4294967296, desc: '2^32' })],
    [2, () => ({ value: [], desc: '[]' })],
    [2, () => ({ value: {}, desc: '{}' })],
    [1, () => ({ value: [null], desc: '[null]' })],
    [1, () => ({ value: [1e308, -1, 0.5], desc: '[1e308, -1, 0.5]' })],
    [1, () => ({ value: Array.from({ length: 100000 }, () => 7), desc: '[7 x 100000]' })],
    [1, () => ({ value: nested(100000), desc: 'an array nested 100000 deep' })],
    [1, () => ({ value: { a: { b: { c: [{}] } } }, desc: 'a nested object' })],
    [1, () => ({ value: 'A'.repeat(200000), desc: "'A' x 200000" })],
    [
      4,
      () => {
        const s = rng.pick(INTERESTING_STRINGS);
        return { value: s, desc: JSON.stringify(s.slice(0, 40)) };
      },
    ],
  ];
  return rng.weighted(choices.map(([w, f]) => [w, f] as const))();
}

type JsonPath = (string | number)[];

interface JsonNode {
  path: JsonPath;
  value: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** Every node of a JSON value (depth first), at most `limit` of them. */
function nodes(root: unknown, limit = 20000): JsonNode[] {
  const out: JsonNode[] = [];
  const stack: JsonNode[] = [{ path: [], value: root }];
  while (stack.length > 0 && out.length < limit) {
    const n = stack.pop() as JsonNode;
    out.push(n);
    if (Array.isArray(n.value)) {
      n.value.forEach((v, i) => stack.push({ path: [...n.path, i], value: v }));
    } else if (isObject(n.value)) {
      for (const [k, v] of Object.entries(n.value)) stack.push({ path: [...n.path, k], value: v });
    }
  }
  return out;
}

const pathText = (p: JsonPath): string =>
  p.length === 0
    ? '(root)'
    : p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k.slice(0, 40)}`)).join('');

function getParent(root: unknown, p: JsonPath): unknown {
  let v = root;
  for (const k of p.slice(0, -1)) v = (v as Record<string | number, unknown>)[k];
  return v;
}

/** Sets an own property (also for `__proto__`, which plain assignment would not create). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The same value as another JSON type: number <-> string, array <-> object, wrapped, unwrapped. */
function retype(v: unknown): Mutated<unknown> {
  if (typeof v === 'number') return { value: String(v), desc: 'number -> string' };
  if (typeof v === 'string') {
    const n = Number(v);
    return Number.isFinite(n) && v.trim() !== ''
      ? { value: n, desc: 'string -> number' }
      : { value: [v], desc: 'string -> [string]' };
  }
  if (typeof v === 'boolean') return { value: v ? 1 : 0, desc: 'boolean -> number' };
  if (Array.isArray(v)) return { value: Object.assign({}, v), desc: 'array -> object' };
  if (isObject(v)) return { value: Object.values(v), desc: 'object -> array of values' };
  return { value: {}, desc: 'null -> {}' };
}

/** A numeric tweak: off by one, doubled, scaled up, negated, fractional. */
function tweakNumber(rng: FuzzRng, v: number): Mutated<number> {
  return rng.pick([
    () => ({ value: v + 1, desc: '+1' }),
    () => ({ value: v - 1, desc: '-1' }),
    () => ({ value: v * 2, desc: 'x2' }),
    () => ({ value: v * 100000, desc: 'x100000' }),
    () => ({ value: -v, desc: 'negated' }),
    () => ({ value: v + 0.5, desc: '+0.5' }),
    () => ({ value: 0, desc: '-> 0' }),
  ])();
}

/**
 * One structural mutation of a JSON value (a deep copy is mutated; the input is not changed):
 * delete a key or element, replace a node with an interesting value, change its type, tweak a
 * number or string, put another string of the document in its place (a name: self-references
 * and cycles), duplicate an element (once or a thousand times), swap two siblings, rename a
 * key, add a key (also `__proto__`). `focus`, when given, is tried first: a node whose path
 * text contains it is picked with probability 0.5 (to aim at the fields a reader trusts).
 */
export function mutateJson(rng: FuzzRng, input: unknown, focus?: RegExp): Mutated<unknown> {
  const root = structuredClone(input);
  const all = nodes(root);
  const focused = focus === undefined ? [] : all.filter((n) => focus.test(pathText(n.path)));
  const node = focused.length > 0 && rng.chance(0.5) ? rng.pick(focused) : rng.pick(all);
  const at = pathText(node.path);
  const key = node.path[node.path.length - 1];
  const parent = node.path.length === 0 ? undefined : getParent(root, node.path);
  const replace = (value: unknown): unknown => {
    if (parent === undefined) return value;
    if (Array.isArray(parent)) parent[key as number] = value;
    else setOwn(parent as Record<string, unknown>, key as string, value);
    return root;
  };
  type Op = () => Mutated<unknown> | undefined;
  const ops: [number, Op][] = [
    [
      3,
      () => {
        if (parent === undefined) return undefined;
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Record<string, unknown>)[key as string];
        return { value: root, desc: `delete ${at}` };
      },
    ],
    [
      5,
      () => {
        const v = interestingValue(rng);
        return { value: replace(v.value), desc: `${at} = ${v.desc}` };
      },
    ],
    [
      2,
      () => {
        const v = retype(node.value);
        return { value: replace(v.value), desc: `${at}: ${v.desc}` };
      },
    ],
    [
      3,
      () => {
        if (typeof node.value !== 'number') return undefined;
        const v = tweakNumber(rng, node.value);
        return { value: replace(v.value), desc: `${at} ${v.desc}` };
      },
    ],
    [
      2,
      () => {
        if (typeof node.value !== 'string') return undefined;
        const s = node.value;
        const v = rng.pick<[string, string]>([
          [`../${s}`, "'../' prefix"],
          [`${s}/..`, "'/..' suffix"],
          [`${s}${s}`, 'doubled'],
          [s.slice(0, Math.floor(s.length / 2)), 'halved'],
          [s.toUpperCase(), 'upper case'],
          [`${s}\u0000`, 'NUL suffix'],
          [`/${s}`, "'/' prefix"],
        ]);
        return { value: replace(v[0]), desc: `${at}: string ${v[1]}` };
      },
    ],
    [
      2,
      () => {
        if (!Array.isArray(node.value) || node.value.length === 0) return undefined;
        const arr = node.value;
        const i = rng.int(arr.length);
        const times = rng.chance(0.3) ? 1000 : 1;
        for (let t = 0; t < times; t++) arr.splice(i, 0, structuredClone(arr[i]));
        return { value: root, desc: `${at}[${i}] duplicated x${times}` };
      },
    ],
    [
      1,
      () => {
        if (!Array.isArray(node.value) || node.value.length < 2) return undefined;
        const arr = node.value;
        const i = rng.int(arr.length);
        const j = rng.int(arr.length);
        [arr[i], arr[j]] = [arr[j], arr[i]];
        return { value: root, desc: `${at}: swap [${i}] and [${j}]` };
      },
    ],
    [
      1,
      () => {
        if (!isObject(parent) || typeof key !== 'string') return undefined;
        const to = rng.pick([`${key}x`, key.toUpperCase(), '', '__proto__', `${key} `]);
        const v = parent[key];
        delete parent[key];
        setOwn(parent, to, v);
        return { value: root, desc: `rename ${at} -> '${to}'` };
      },
    ],
    [
      3,
      () => {
        // Another string of the same document (a layer or node name, say): references that
        // now point at the node itself, at a later node (a cycle) or at the wrong kind of thing.
        if (typeof node.value !== 'string') return undefined;
        const strings = all.filter((n) => typeof n.value === 'string' && n.value !== node.value);
        if (strings.length === 0) return undefined;
        const other = rng.pick(strings).value as string;
        return {
          value: replace(other),
          desc: `${at} = '${other.slice(0, 40)}' (from the document)`,
        };
      },
    ],
    [
      1,
      () => {
        if (!isObject(node.value)) return undefined;
        const k = rng.pick(['__proto__', 'constructor', 'extra', '']);
        const v = interestingValue(rng);
        setOwn(node.value, k, v.value);
        return { value: root, desc: `${at}: add key '${k}' = ${v.desc}` };
      },
    ],
  ];
  for (let tries = 0; tries < 20; tries++) {
    const m = rng.weighted(ops)();
    if (m !== undefined) return m;
  }
  const v = interestingValue(rng);
  return { value: replace(v.value), desc: `${at} = ${v.desc}` };
}

/** Cells and lines that often break a text reader. */
const INTERESTING_CELLS = [
  '',
  'NaN',
  'nan',
  'Infinity',
  '-inf',
  '1e309',
  '-1e309',
  '1e-400',
  '0x10',
  '1_000',
  '--1',
  '"3"',
  '"unterminated',
  'null',
  'true',
  '[]',
  '{}',
  ' 1 ',
  '1,5',
  '\u00a01',
  '٣',
  'A'.repeat(1000),
];
const INTERESTING_LINES = [
  '',
  ',,,',
  'a,b,c',
  '"',
  '\u0000',
  '\ufeff1,2,3',
  '#',
  '[',
  '{}',
  '[]',
  '[[1,2],[3]]',
  '{"input": null}',
  '{"input": "x"}',
  '[1e999]',
  Array.from({ length: 20000 }, () => '1').join(','),
];

/**
 * One mutation of a line-oriented text (CSV, JSONL): delete, duplicate (once or a thousand
 * times), swap or insert a line, replace one cell or token with an interesting one, change the
 * line endings, add a byte order mark, drop the final newline; or, for `jsonLines`, one
 * structural mutation of one line's JSON value.
 */
export function mutateText(rng: FuzzRng, text: string, jsonLines = false): Mutated<string> {
  const lines = text.split('\n');
  const ends = lines.length > 0 && lines[lines.length - 1] === '';
  if (ends) lines.pop();
  const join = (ls: string[]): string => ls.join('\n') + (ends ? '\n' : '');
  const i = rng.int(lines.length);
  type Op = () => Mutated<string> | undefined;
  const ops: [number, Op][] = [
    [
      2,
      () => {
        lines.splice(i, 1);
        return { value: join(lines), desc: `delete line ${i + 1}` };
      },
    ],
    [
      2,
      () => {
        const times = rng.chance(0.3) ? 1000 : 1;
        for (let t = 0; t < times; t++) lines.splice(i, 0, lines[i]);
        return { value: join(lines), desc: `duplicate line ${i + 1} x${times}` };
      },
    ],
    [
      1,
      () => {
        const j = rng.int(lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
        return { value: join(lines), desc: `swap lines ${i + 1} and ${j + 1}` };
      },
    ],
    [
      2,
      () => {
        const l = rng.pick(INTERESTING_LINES);
        lines.splice(i, 0, l);
        return { value: join(lines), desc: `insert line ${JSON.stringify(l.slice(0, 30))}` };
      },
    ],
    [
      5,
      () => {
        // A cell (between delimiters) or a JSON number token of line i.
        const line = lines[i] ?? '';
        const tokens = [...line.matchAll(/-?[0-9][0-9.eE+-]*|[^,\t;[\]{}":\s]+/g)];
        if (tokens.length === 0) return undefined;
        const t = rng.pick(tokens);
        const cell = rng.pick(INTERESTING_CELLS);
        const at = t.index ?? 0;
        lines[i] = line.slice(0, at) + cell + line.slice(at + t[0].length);
        return {
          value: join(lines),
          desc: `line ${i + 1}: '${t[0].slice(0, 20)}' -> ${JSON.stringify(cell.slice(0, 20))}`,
        };
      },
    ],
    [
      jsonLines ? 5 : 0,
      () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(lines[i]);
        } catch {
          return undefined;
        }
        const m = mutateJson(rng, parsed);
        lines[i] = jsonText(m.value);
        return { value: join(lines), desc: `line ${i + 1}: ${m.desc}` };
      },
    ],
    [
      1,
      () =>
        rng.pick([
          () => ({ value: join(lines).replace(/\n/g, '\r\n'), desc: 'CRLF line endings' }),
          () => ({ value: join(lines).replace(/\n/g, '\r'), desc: 'CR line endings' }),
          () => ({ value: `\ufeff${join(lines)}`, desc: 'byte order mark' }),
          () => ({ value: lines.join('\n'), desc: 'no final newline' }),
          () => ({ value: join(lines).replace(/,/g, ';'), desc: "',' -> ';'" }),
          () => ({ value: join(lines).replace(/,/g, '\t'), desc: "',' -> tab" }),
        ])(),
    ],
  ];
  for (let tries = 0; tries < 20; tries++) {
    const m = rng.weighted(ops)();
    if (m !== undefined) return m;
  }
  return { value: join(lines.slice(0, 1)), desc: 'keep line 1 only' };
}
