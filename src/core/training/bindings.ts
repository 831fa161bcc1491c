/**
 * The names a script binds to values it only knows when it runs: loop variables and function
 * parameters, each with the span of the script where the binding holds. The path evaluator uses
 * them to say why a path is unknown, and so that a loop variable is not read as a constant
 * assigned before the loop (`epoch = 0` then `for epoch in ...`).
 */
import type { ScriptLanguage, Token } from './scriptTokens';
import { matchingClose, matchingOpen, splitArgs, statementEnd } from './tokenRanges';

export interface Binding {
  name: string;
  /** Offset of the binding in the script; it holds from there to `scopeEnd` (exclusive). */
  offset: number;
  scopeEnd: number;
  /** Why its value is unknown: "a loop variable", "a parameter of `save`". */
  why: string;
}

const LOOP_VARIABLE = 'a loop variable';
const NOT_PARAMS = new Set(['self', 'public', 'private', 'protected', 'readonly']);
const JS_KEYWORDS = new Set([
  'if',
  'for',
  'while',
  'switch',
  'catch',
  'with',
  'return',
  'function',
  'typeof',
  'await',
  'new',
  'super',
]);

const isPunct = (t: Token | undefined, text: string): boolean =>
  t !== undefined && t.kind === 'punct' && t.text === text;

/** The offset where the tokens from index `end` on start, or the end of the script. */
const offsetAt = (tokens: Token[], end: number): number =>
  end < tokens.length ? tokens[end].start : Number.POSITIVE_INFINITY;

function parameterWhy(fn: string | null): string {
  return fn ? `a parameter of \`${fn}\`` : 'a function parameter';
}

/** The parameter names in `tokens(open, close)`: the first name of each (defaults and types skipped). */
function parameterNames(tokens: Token[], open: number, close: number): Token[] {
  const names: Token[] = [];
  for (const [from, to] of splitArgs(tokens, open + 1, close)) {
    let j = from;
    while (j < to && tokens[j].kind === 'punct' && ['...', '*', '**'].includes(tokens[j].text)) j++;
    while (j < to && tokens[j].kind === 'ident' && NOT_PARAMS.has(tokens[j].text) && j + 1 < to)
      j++;
    if (j < to && tokens[j].kind === 'ident' && !NOT_PARAMS.has(tokens[j].text))
      names.push(tokens[j]);
  }
  return names;
}

/** Index one past a Python block whose header ends at `headerEnd`: the next line indented no deeper than `indent`. */
function pythonBlockEnd(tokens: Token[], headerEnd: number, indent: number): number {
  let depth = 0;
  for (let j = headerEnd + 1; j < tokens.length; j++) {
    const t = tokens[j];
    const firstOnLine = tokens[j - 1].line !== t.line;
    if (depth === 0 && firstOnLine && t.line > tokens[headerEnd].line && t.column <= indent)
      return j;
    if (t.kind !== 'punct') continue;
    if (['(', '[', '{'].includes(t.text)) depth++;
    else if ([')', ']', '}'].includes(t.text)) depth--;
  }
  return tokens.length;
}

/** Column of the first token on the line of token `i`. */
function lineIndent(tokens: Token[], i: number): number {
  let j = i;
  while (j > 0 && tokens[j - 1].line === tokens[i].line) j--;
  return tokens[j].column;
}

/** Index one past a JS body starting at `from` (after the parameters): a `{...}` block, else the statement. */
function jsBodyEnd(tokens: Token[], from: number): number {
  let j = from;
  // A TypeScript return type: `): Promise<void> {`.
  if (isPunct(tokens[j], ':'))
    while (j < tokens.length && !isPunct(tokens[j], '{') && !isPunct(tokens[j], ';')) j++;
  if (isPunct(tokens[j], '{')) {
    const close = matchingClose(tokens, j);
    return close < 0 ? tokens.length : close + 1;
  }
  return statementEnd(tokens, j);
}

function pythonBindings(tokens: Token[]): Binding[] {
  const out: Binding[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'ident') continue;
    if (t.text === 'for') {
      // Python loop variables outlive the loop.
      for (let j = i + 1; j < tokens.length && tokens[j].line === t.line; j++) {
        if (tokens[j].kind === 'ident' && tokens[j].text === 'in') break;
        if (tokens[j].kind === 'ident')
          out.push({
            name: tokens[j].text,
            offset: tokens[j].start,
            scopeEnd: Number.POSITIVE_INFINITY,
            why: LOOP_VARIABLE,
          });
      }
    } else if (t.text === 'def' && tokens[i + 1]?.kind === 'ident' && isPunct(tokens[i + 2], '(')) {
      const close = matchingClose(tokens, i + 2);
      if (close < 0) continue;
      const scopeEnd = offsetAt(tokens, pythonBlockEnd(tokens, close, lineIndent(tokens, i)));
      for (const p of parameterNames(tokens, i + 2, close))
        out.push({
          name: p.text,
          offset: p.start,
          scopeEnd,
          why: parameterWhy(tokens[i + 1].text),
        });
    }
  }
  return out;
}

/** `for (let i = 0; ...)`, `for (const [a, b] of xs)`: the names before `of`, `in`, `=` or `;`. */
function jsLoopBindings(tokens: Token[], open: number): Binding[] {
  const close = matchingClose(tokens, open);
  if (close < 0) return [];
  const scopeEnd = offsetAt(tokens, jsBodyEnd(tokens, close + 1));
  const out: Binding[] = [];
  for (let j = open + 1; j < close; j++) {
    const t = tokens[j];
    if (t.kind === 'ident' && (t.text === 'of' || t.text === 'in')) break;
    if (isPunct(t, '=') || isPunct(t, ';')) break;
    if (t.kind === 'ident' && !['const', 'let', 'var'].includes(t.text))
      out.push({ name: t.text, offset: t.start, scopeEnd, why: LOOP_VARIABLE });
  }
  return out;
}

/** The name an arrow function with its parameters at `open` is given: `const f = (`, `f: async (`. */
function arrowName(tokens: Token[], open: number): string | null {
  let j = open - 1;
  if (tokens[j]?.kind === 'ident' && tokens[j].text === 'async') j--;
  const named = isPunct(tokens[j], '=') || isPunct(tokens[j], ':');
  return named && tokens[j - 1]?.kind === 'ident' ? tokens[j - 1].text : null;
}

function jsBindings(tokens: Token[]): Binding[] {
  const out: Binding[] = [];
  const params = (open: number, close: number, bodyFrom: number, fn: string | null): void => {
    const scopeEnd = offsetAt(tokens, jsBodyEnd(tokens, bodyFrom));
    for (const p of parameterNames(tokens, open, close))
      out.push({ name: p.text, offset: p.start, scopeEnd, why: parameterWhy(fn) });
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'ident' && t.text === 'for') {
      const open = isPunct(tokens[i + 1], '(') ? i + 1 : i + 2;
      if (isPunct(tokens[open], '(')) out.push(...jsLoopBindings(tokens, open));
    } else if (isPunct(t, '=>')) {
      // An arrow function: `(a, b) => ...` or `a => ...`.
      const prev = tokens[i - 1];
      if (isPunct(prev, ')')) {
        const open = matchingOpen(tokens, i - 1);
        if (open >= 0) params(open, i - 1, i + 1, arrowName(tokens, open));
      } else if (prev?.kind === 'ident') {
        const scopeEnd = offsetAt(tokens, jsBodyEnd(tokens, i + 1));
        out.push({ name: prev.text, offset: prev.start, scopeEnd, why: parameterWhy(null) });
      }
    } else if (t.kind === 'ident' && isPunct(tokens[i + 1], '(')) {
      const prev = tokens[i - 1];
      if (isPunct(prev, '.') || isPunct(prev, '?.')) continue;
      const close = matchingClose(tokens, i + 1);
      if (close < 0) continue;
      // `function (...)`, `function f(...)` or a method `f(...) {`; a call has no body after it.
      if (t.text === 'function') params(i + 1, close, close + 1, null);
      else if (JS_KEYWORDS.has(t.text)) continue;
      else if ((prev?.kind === 'ident' && prev.text === 'function') || bodyFollows(tokens, close))
        params(i + 1, close, close + 1, t.text);
    }
  }
  return out;
}

const TYPE_PUNCT = ['.', '<', '>', '[', ']', '|', '&', ','];

/** Whether a `{` body follows the `)` at `close`, after an optional TypeScript return type. */
function bodyFollows(tokens: Token[], close: number): boolean {
  let j = close + 1;
  if (isPunct(tokens[j], ':'))
    for (j++; j < tokens.length; j++)
      if (tokens[j].kind !== 'ident' && !TYPE_PUNCT.includes(tokens[j].text)) break;
  return isPunct(tokens[j], '{');
}

/** Every loop variable and function parameter of a script, in source order. */
export function collectBindings(tokens: Token[], language: ScriptLanguage): Binding[] {
  const found = language === 'python' ? pythonBindings(tokens) : jsBindings(tokens);
  return found.sort((a, b) => a.offset - b.offset);
}
