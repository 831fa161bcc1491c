/**
 * Static evaluation of the small expressions that name a checkpoint path in a training
 * script: string literals, f-strings and template literals whose placeholders are known,
 * `+` concatenation, `os.path.join` / `path.join` / `path.resolve` / `os.path.dirname`,
 * `pathlib.Path(...) / "x"` with `.parent`, `__file__` / `__dirname`, and variables assigned
 * such an expression earlier in the file. Anything else is "unknown" (null): the finder
 * never guesses a path.
 */
import * as path from 'node:path';
import { tokenizeScript } from './scriptTokens';
import type { ScriptLanguage, Token } from './scriptTokens';

/** A statically known value: a string, or a number that may be formatted into a string. */
interface Value {
  s: string;
  num: boolean;
}

/** One `name = <expr>` statement: the tokens of the right-hand side. */
interface Assignment {
  name: string;
  offset: number;
  tokens: Token[];
  from: number;
  to: number;
}

const MAX_DEPTH = 16;

const JOIN_CALLS = new Set([
  'os.path.join',
  'path.join',
  'posixpath.join',
  'join',
  'path.posix.join',
]);
const RESOLVE_CALLS = new Set(['path.resolve', 'resolve', 'path.posix.resolve']);
const DIRNAME_CALLS = new Set(['os.path.dirname', 'path.dirname', 'dirname']);
const IDENTITY_CALLS = new Set([
  'os.path.abspath',
  'os.path.realpath',
  'os.path.normpath',
  'path.normalize',
  'str',
  'String',
  'os.fspath',
]);
const PATH_CALLS = new Set(['Path', 'pathlib.Path', 'PurePath', 'pathlib.PurePath', 'PosixPath']);

/** Splits `tokens[from, to)` on top-level commas. */
export function splitArgs(tokens: Token[], from: number, to: number): [number, number][] {
  const parts: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const t = tokens[i].text;
    if (tokens[i].kind !== 'punct') continue;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') depth--;
    else if (t === ',' && depth === 0) {
      parts.push([start, i]);
      start = i + 1;
    }
  }
  if (start < to) parts.push([start, to]);
  return parts;
}

/** Index of the bracket closing the one at `open`, or -1. */
export function matchingClose(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i].kind !== 'punct') continue;
    const t = tokens[i].text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Index one past the end of the statement whose right-hand side starts at `from`. */
function statementEnd(tokens: Token[], from: number): number {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i];
    if (i > from && depth === 0 && t.line !== tokens[i - 1].line) return i;
    if (t.kind !== 'punct') continue;
    if (t.text === '(' || t.text === '[' || t.text === '{') depth++;
    else if (t.text === ')' || t.text === ']' || t.text === '}') {
      depth--;
      if (depth < 0) return i;
    } else if (t.text === ';' && depth === 0) return i;
  }
  return tokens.length;
}

/** Finds `NAME = expr` (Python, with an optional annotation) and `const|let|var NAME = expr` (JS). */
function collectAssignments(tokens: Token[], language: ScriptLanguage): Assignment[] {
  const out: Assignment[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'ident') continue;
    const prev = tokens[i - 1];
    const statementStart =
      !prev ||
      prev.line !== t.line ||
      prev.text === ';' ||
      ['const', 'let', 'var'].includes(prev.text);
    if (!statementStart) continue;
    let eq = i + 1;
    if (tokens[eq]?.text === ':') {
      // Annotated assignment: NAME: type = expr.
      while (eq < tokens.length && tokens[eq].line === t.line && tokens[eq].text !== '=') eq++;
    }
    if (tokens[eq]?.text !== '=' || tokens[eq].kind !== 'punct') continue;
    if (
      language !== 'python' &&
      tokens[i + 1]?.text === ':' &&
      !['const', 'let', 'var'].includes(prev?.text ?? '')
    )
      continue;
    const end = statementEnd(tokens, eq + 1);
    out.push({ name: t.text, offset: t.start, tokens, from: eq + 1, to: end });
  }
  return out;
}

/** Evaluates path-like expressions of one script. */
export class PathEvaluator {
  /** Assignments by name, in source order. */
  private readonly assignments = new Map<string, Assignment[]>();

  constructor(
    private readonly tokens: Token[],
    readonly language: ScriptLanguage,
    private readonly scriptPath: string,
  ) {
    for (const a of collectAssignments(tokens, language)) {
      const list = this.assignments.get(a.name);
      if (list) list.push(a);
      else this.assignments.set(a.name, [a]);
    }
  }

  /** The string value of `tokens[from, to)`, or null when any part of it is unknown. */
  evaluate(from: number, to: number, tokens: Token[] = this.tokens, depth = 0): string | null {
    const v = this.expr(tokens, from, to, depth);
    return v === null ? null : v.s;
  }

  private lookup(name: string, before: number, depth: number): Value | null {
    if (depth > MAX_DEPTH) return null;
    let found: Assignment | undefined;
    for (const a of this.assignments.get(name) ?? []) {
      if (a.offset >= before) break;
      found = a;
    }
    if (!found) return null;
    return this.expr(found.tokens, found.from, found.to, depth + 1, found.offset);
  }

  private expr(
    tokens: Token[],
    from: number,
    to: number,
    depth: number,
    scopeOffset?: number,
  ): Value | null {
    if (from >= to || depth > MAX_DEPTH) return null;
    const before = scopeOffset ?? tokens[from].start;
    const parser = new ExprParser(this, tokens, from, to, depth, before);
    return parser.parseAll();
  }

  /** Used by the parser: values of names, calls and placeholders. */
  name(name: string, before: number, depth: number): Value | null {
    if (name === '__file__' || name === '__filename') return { s: this.scriptPath, num: false };
    if (name === '__dirname') return { s: path.dirname(this.scriptPath), num: false };
    return this.lookup(name, before, depth);
  }

  call(callee: string, args: (Value | null)[]): Value | null {
    if (args.some((a) => a === null || a.num)) return null;
    const parts = (args as Value[]).map((a) => a.s);
    if (JOIN_CALLS.has(callee))
      return parts.length ? { s: joinPaths(parts, this.language), num: false } : null;
    if (RESOLVE_CALLS.has(callee))
      return parts.length ? { s: joinPaths(parts, 'python'), num: false } : null;
    if (DIRNAME_CALLS.has(callee))
      return parts.length === 1 ? { s: path.dirname(parts[0]), num: false } : null;
    if (IDENTITY_CALLS.has(callee)) return parts.length === 1 ? { s: parts[0], num: false } : null;
    if (PATH_CALLS.has(callee) && this.language === 'python')
      return parts.length ? { s: joinPaths(parts, 'python'), num: false } : null;
    return null;
  }

  /** Python f-string or JS template body with `{expr}` / `${expr}` placeholders. */
  interpolate(
    body: string,
    kind: 'fstring' | 'template',
    before: number,
    depth: number,
  ): Value | null {
    let out = '';
    let i = 0;
    while (i < body.length) {
      const c = body[i];
      if (kind === 'fstring' && (c === '{' || c === '}') && body[i + 1] === c) {
        out += c;
        i += 2;
        continue;
      }
      const opens = kind === 'fstring' ? c === '{' : c === '$' && body[i + 1] === '{';
      if (opens) {
        const open = kind === 'fstring' ? i : i + 1;
        let close = open;
        let d = 0;
        for (; close < body.length; close++) {
          if (body[close] === '{') d++;
          else if (body[close] === '}' && --d === 0) break;
        }
        if (close >= body.length) return null;
        const inner = body.slice(open + 1, close);
        // Format specs and conversions (f"{x:03d}", f"{x!r}") are not evaluated.
        if (kind === 'fstring' && /[!:](?![=])/.test(inner.replace(/\[[^\]]*\]|\([^)]*\)/g, '')))
          return null;
        const innerTokens = tokenizeScript(inner, this.language);
        const v = this.expr(innerTokens, 0, innerTokens.length, depth + 1, before);
        if (v === null) return null;
        out += v.s;
        i = close + 1;
        continue;
      }
      if (kind === 'template' && c === '\\') {
        out += body[i + 1] ?? '';
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    return { s: out, num: false };
  }
}

/** Joins path parts; an absolute part restarts the path (Python os.path.join, pathlib). */
function joinPaths(parts: string[], language: ScriptLanguage): string {
  if (language !== 'python') return path.join(...parts);
  let acc = '';
  for (const p of parts) acc = path.isAbsolute(p) || acc === '' ? p : path.join(acc, p);
  return acc;
}

/** Recursive-descent parser over a token range; any unsupported construct yields null. */
class ExprParser {
  private pos: number;

  constructor(
    private readonly ev: PathEvaluator,
    private readonly tokens: Token[],
    from: number,
    private readonly to: number,
    private readonly depth: number,
    private readonly before: number,
  ) {
    this.pos = from;
  }

  parseAll(): Value | null {
    const v = this.sum();
    return v !== null && this.pos === this.to ? v : null;
  }

  private peek(): Token | undefined {
    return this.pos < this.to ? this.tokens[this.pos] : undefined;
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t !== undefined && t.kind === 'punct' && t.text === text;
  }

  private sum(): Value | null {
    let left = this.postfix();
    while (left !== null && (this.isPunct('+') || this.isPunct('/'))) {
      const op = this.tokens[this.pos++].text;
      const right = this.postfix();
      if (right === null) return null;
      if (op === '+') {
        if (left.num || right.num) return null;
        left = { s: left.s + right.s, num: false };
      } else {
        if (this.ev.language !== 'python' || left.num || right.num) return null;
        left = { s: joinPaths([left.s, right.s], 'python'), num: false };
      }
    }
    return left;
  }

  private postfix(): Value | null {
    let v = this.primary();
    while (v !== null && this.isPunct('.')) {
      const attr = this.tokens[this.pos + 1];
      if (!attr || attr.kind !== 'ident') return null;
      this.pos += 2;
      if (attr.text === 'parent') {
        v = { s: path.dirname(v.s), num: false };
        continue;
      }
      if (!this.isPunct('(')) return null;
      const close = matchingClose(this.tokens, this.pos);
      if (close < 0 || close >= this.to) return null;
      const args = splitArgs(this.tokens, this.pos + 1, close).map(([a, b]) => this.sub(a, b));
      this.pos = close + 1;
      if (
        ['resolve', 'absolute', 'as_posix', 'expanduser'].includes(attr.text) &&
        args.length === 0
      ) {
        if (attr.text === 'expanduser' && v.s.startsWith('~')) return null;
        continue;
      }
      if (attr.text === 'joinpath' && args.every((a) => a !== null && !a.num)) {
        v = { s: joinPaths([v.s, ...args.map((a) => (a as Value).s)], 'python'), num: false };
        continue;
      }
      return null;
    }
    return v;
  }

  private sub(from: number, to: number): Value | null {
    return new ExprParser(this.ev, this.tokens, from, to, this.depth + 1, this.before).parseAll();
  }

  private primary(): Value | null {
    const t = this.peek();
    if (!t) return null;
    if (t.kind === 'punct' && t.text === '(') {
      const close = matchingClose(this.tokens, this.pos);
      if (close < 0 || close >= this.to) return null;
      const v = this.sub(this.pos + 1, close);
      this.pos = close + 1;
      return v;
    }
    if (t.kind === 'string' || t.kind === 'fstring' || t.kind === 'template') {
      // Adjacent Python literals concatenate: "a" f"{b}" -> "ab".
      let out = '';
      while (this.peek() && ['string', 'fstring', 'template'].includes(this.peek()!.kind)) {
        const s = this.tokens[this.pos++];
        const part =
          s.kind === 'string'
            ? { s: s.text, num: false }
            : this.ev.interpolate(
                s.text,
                s.kind as 'fstring' | 'template',
                this.before,
                this.depth,
              );
        if (part === null) return null;
        out += part.s;
        if (this.ev.language !== 'python') break;
      }
      return { s: out, num: false };
    }
    if (t.kind === 'number') {
      this.pos++;
      return /^\d+$/.test(t.text) ? { s: t.text, num: true } : null;
    }
    if (t.kind === 'ident') {
      const chain = [t.text];
      this.pos++;
      while (
        this.isPunct('.') &&
        this.tokens[this.pos + 1]?.kind === 'ident' &&
        this.tokens[this.pos + 1].text !== 'parent' &&
        isModulePath(chain)
      ) {
        chain.push(this.tokens[this.pos + 1].text);
        this.pos += 2;
      }
      if (this.isPunct('(')) {
        const close = matchingClose(this.tokens, this.pos);
        if (close < 0 || close >= this.to) return null;
        const args = splitArgs(this.tokens, this.pos + 1, close).map(([a, b]) => this.sub(a, b));
        this.pos = close + 1;
        return this.ev.call(chain.join('.'), args);
      }
      if (chain.length !== 1) return null;
      return this.ev.name(t.text, this.before, this.depth + 1);
    }
    return null;
  }
}

/** Dotted names that lead to a known path function (os.path.join, pathlib.Path, path.posix.join). */
function isModulePath(chain: string[]): boolean {
  const head = chain.join('.');
  return ['os', 'os.path', 'path', 'path.posix', 'pathlib', 'posixpath'].includes(head);
}
