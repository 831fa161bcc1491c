/**
 * Static evaluation of the small expressions that name a checkpoint path in a training
 * script: string literals, f-strings and template literals, `+` concatenation,
 * `os.path.join` / `path.join` / `path.resolve` / `os.path.dirname`, `pathlib.Path(...) / "x"`
 * with `.parent`, `__file__` / `__dirname`, and variables assigned such an expression earlier
 * in the file. What it cannot follow (a loop variable, a parameter, a CLI argument, a call it
 * does not know) becomes an unknown part: the path is then a pattern with a WILDCARD for each
 * such part, and says why. The finder never guesses a path: a path with unknown parts is
 * unknown.
 */
import * as path from 'node:path';
import { collectAssignments } from './assignments';
import type { Assignment } from './assignments';
import { collectBindings } from './bindings';
import type { Binding } from './bindings';
import { tokenizeScript } from './scriptTokens';
import type { ScriptLanguage, Token } from './scriptTokens';
import { matchingClose, splitArgs } from './tokenRanges';
import { NOT_ASSIGNED, WILDCARD, runtimeWhy, sourceText } from './unknownParts';
import type { UnknownPart } from './unknownParts';

/** A path with its unknown parts, each standing as WILDCARD in `pattern`, in source order. */
export interface PathPattern {
  pattern: string;
  unknown: UnknownPart[];
}

/**
 * A value: a string, or a number that may be formatted into a string; with the unknown parts
 * that stand as WILDCARD in it.
 */
interface Value {
  s: string;
  num: boolean;
  unknown: UnknownPart[];
}

const known = (s: string, num = false): Value => ({ s, num, unknown: [] });
const unknownValue = (parts: UnknownPart[]): Value => ({ s: WILDCARD, num: false, unknown: parts });

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
/** pathlib methods that keep the path as it is (for a static path). */
const NO_OP_METHODS = new Set(['resolve', 'absolute', 'as_posix', 'expanduser']);
/** The attributes of a path value the parser follows (`.parent`, `.joinpath(...)` and the no-ops). */
const PATH_METHODS = new Set([...NO_OP_METHODS, 'parent', 'joinpath']);

/** Index of the `!` or `:` starting an f-string placeholder's conversion or format spec, or -1. */
function formatSpecStart(inner: string): number {
  let depth = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '"' || c === "'") {
      const close = inner.indexOf(c, i + 1);
      if (close < 0) return -1;
      i = close;
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (depth === 0 && (c === '!' || c === ':') && inner[i + 1] !== '=') return i;
  }
  return -1;
}

/** Evaluates path-like expressions of one script. */
export class PathEvaluator {
  /** Assignments by name, in source order. */
  private readonly assignments = new Map<string, Assignment[]>();
  private readonly bindings: Binding[];

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
    this.bindings = collectBindings(tokens, language);
  }

  /** The string value of `tokens[from, to)`, or null when any part of it is unknown. */
  evaluate(from: number, to: number): string | null {
    const p = this.pattern(from, to);
    return p !== null && p.unknown.length === 0 ? p.pattern : null;
  }

  /** The value of `tokens[from, to)` with its unknown parts as WILDCARDs; null for no tokens. */
  pattern(from: number, to: number): PathPattern | null {
    const v = this.expr(this.tokens, from, to, 0);
    return v === null ? null : { pattern: v.s, unknown: v.unknown };
  }

  /**
   * The value `name` has just before offset `before`: from its latest assignment, unless a loop
   * or a function binds it later (still in scope there), which makes it unknown.
   */
  private lookup(name: string, before: number, depth: number): Value | null {
    if (depth > MAX_DEPTH) return null;
    let found: Assignment | undefined;
    for (const a of this.assignments.get(name) ?? []) {
      if (a.offset >= before) break;
      found = a;
    }
    let binding: Binding | undefined;
    for (const b of this.bindings) {
      if (b.offset >= before) break;
      if (b.name === name && before < b.scopeEnd) binding = b;
    }
    if (binding && (!found || binding.offset >= found.offset))
      return unknownValue([{ expr: name, why: binding.why }]);
    if (!found) return unknownValue([{ expr: name, why: NOT_ASSIGNED }]);
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
    if (name === '__file__' || name === '__filename') return known(this.scriptPath);
    if (name === '__dirname') return known(path.dirname(this.scriptPath));
    return this.lookup(name, before, depth);
  }

  /** An expression the evaluator cannot follow, as one unknown part. */
  opaque(tokens: Token[], from: number, to: number): Value {
    const expr = sourceText(tokens, from, to);
    return unknownValue([{ expr, why: runtimeWhy(expr) }]);
  }

  call(callee: string, args: (Value | null)[]): Value | null {
    if (args.some((a) => a === null || a.num)) return null;
    const values = args as Value[];
    const parts = values.map((a) => a.s);
    const result = (s: string): Value => ({
      s,
      num: false,
      unknown: values.flatMap((a) => a.unknown),
    });
    if (JOIN_CALLS.has(callee))
      return parts.length ? result(joinPaths(parts, this.language)) : null;
    if (RESOLVE_CALLS.has(callee)) return parts.length ? result(joinPaths(parts, 'python')) : null;
    if (DIRNAME_CALLS.has(callee))
      return parts.length === 1 ? result(path.dirname(parts[0])) : null;
    if (IDENTITY_CALLS.has(callee)) return parts.length === 1 ? result(parts[0]) : null;
    if (PATH_CALLS.has(callee) && this.language === 'python')
      return parts.length ? result(joinPaths(parts, 'python')) : null;
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
    const unknown: UnknownPart[] = [];
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
        const v = this.placeholder(body.slice(open + 1, close), kind, before, depth);
        if (v === null) return null;
        out += v.s;
        unknown.push(...v.unknown);
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
    return { s: out, num: false, unknown };
  }

  /**
   * One placeholder's value. A conversion or format spec (f"{x:03d}", f"{x!r}") is not
   * evaluated: the placeholder is then unknown, for the reason its expression is, or because
   * of the spec.
   */
  private placeholder(
    inner: string,
    kind: 'fstring' | 'template',
    before: number,
    depth: number,
  ): Value | null {
    const spec = kind === 'fstring' ? formatSpecStart(inner) : -1;
    const exprText = spec < 0 ? inner : inner.slice(0, spec);
    const innerTokens = tokenizeScript(exprText, this.language);
    const v = this.expr(innerTokens, 0, innerTokens.length, depth + 1, before);
    if (v === null || spec < 0) return v;
    if (v.unknown.length) return unknownValue(v.unknown);
    return unknownValue([
      { expr: exprText.trim(), why: `formatted with \`${inner.slice(spec)}\`` },
    ]);
  }
}

/** Joins path parts; an absolute part restarts the path (Python os.path.join, pathlib). */
function joinPaths(parts: string[], language: ScriptLanguage): string {
  if (language !== 'python') return path.join(...parts);
  let acc = '';
  for (const p of parts) acc = path.isAbsolute(p) || acc === '' ? p : path.join(acc, p);
  return acc;
}

/**
 * Recursive-descent parser over a token range. An unsupported construct makes the whole range
 * one unknown part (a call it does not know: that call).
 */
class ExprParser {
  private pos: number;

  constructor(
    private readonly ev: PathEvaluator,
    private readonly tokens: Token[],
    private readonly from: number,
    private readonly to: number,
    private readonly depth: number,
    private readonly before: number,
  ) {
    this.pos = from;
  }

  parseAll(): Value | null {
    const v = this.sum();
    if (v !== null && this.pos === this.to) return v;
    return this.from < this.to ? this.ev.opaque(this.tokens, this.from, this.to) : null;
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
      if (left.num || right.num) return null;
      if (op === '/' && this.ev.language !== 'python') return null;
      const s = op === '+' ? left.s + right.s : joinPaths([left.s, right.s], 'python');
      left = { s, num: false, unknown: [...left.unknown, ...right.unknown] };
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
        v = { ...v, s: path.dirname(v.s), num: false };
        continue;
      }
      if (!this.isPunct('(')) return null;
      const close = matchingClose(this.tokens, this.pos);
      if (close < 0 || close >= this.to) return null;
      const args = splitArgs(this.tokens, this.pos + 1, close).map(([a, b]) => this.sub(a, b));
      this.pos = close + 1;
      if (NO_OP_METHODS.has(attr.text) && args.length === 0) {
        if (attr.text === 'expanduser' && v.s.startsWith('~')) return null;
        continue;
      }
      if (attr.text === 'joinpath' && args.every((a) => a !== null && !a.num)) {
        const parts = [v, ...(args as Value[])];
        v = {
          s: joinPaths(
            parts.map((a) => a.s),
            'python',
          ),
          num: false,
          unknown: parts.flatMap((a) => a.unknown),
        };
        continue;
      }
      return null;
    }
    return v;
  }

  /** Moves past `.name`, `[...]` and `(...)` trailers; false when a bracket does not close in range. */
  private skipTrailers(): boolean {
    for (;;) {
      if (this.isPunct('.') && this.tokens[this.pos + 1]?.kind === 'ident') this.pos += 2;
      else if (this.isPunct('[') || this.isPunct('(')) {
        const close = matchingClose(this.tokens, this.pos);
        if (close < 0 || close >= this.to) return false;
        this.pos = close + 1;
      } else return true;
    }
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
      const unknown: UnknownPart[] = [];
      while (this.peek() && ['string', 'fstring', 'template'].includes(this.peek()!.kind)) {
        const s = this.tokens[this.pos++];
        const part =
          s.kind === 'string'
            ? known(s.text)
            : this.ev.interpolate(
                s.text,
                s.kind as 'fstring' | 'template',
                this.before,
                this.depth,
              );
        if (part === null) return null;
        out += part.s;
        unknown.push(...part.unknown);
        if (this.ev.language !== 'python') break;
      }
      return { s: out, num: false, unknown };
    }
    if (t.kind === 'number') {
      this.pos++;
      return /^\d+$/.test(t.text) ? known(t.text, true) : null;
    }
    if (t.kind === 'ident') {
      const start = this.pos;
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
        return this.ev.call(chain.join('.'), args) ?? this.ev.opaque(this.tokens, start, close + 1);
      }
      // `args.out`, `os.environ["DIR"]`, `sys.argv[1]`: read at run time, one unknown part.
      const attr = this.tokens[this.pos + 1];
      const pathMethod = this.isPunct('.') && attr?.kind === 'ident' && PATH_METHODS.has(attr.text);
      if (chain.length !== 1 || this.isPunct('[') || (this.isPunct('.') && !pathMethod)) {
        if (!this.skipTrailers()) return null;
        return this.ev.opaque(this.tokens, start, this.pos);
      }
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
