/** Bracket and statement ranges over script tokens, shared by the path evaluator and the finder. */
import type { Token } from './scriptTokens';

const OPENS = ['(', '[', '{'];
const CLOSES = [')', ']', '}'];

/** Splits `tokens[from, to)` on top-level commas. */
export function splitArgs(tokens: Token[], from: number, to: number): [number, number][] {
  const parts: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const t = tokens[i].text;
    if (tokens[i].kind !== 'punct') continue;
    if (OPENS.includes(t)) depth++;
    else if (CLOSES.includes(t)) depth--;
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
    if (OPENS.includes(t)) depth++;
    else if (CLOSES.includes(t)) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Index of the bracket opening the one at `close`, or -1. */
export function matchingOpen(tokens: Token[], close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    if (tokens[i].kind !== 'punct') continue;
    const t = tokens[i].text;
    if (CLOSES.includes(t)) depth++;
    else if (OPENS.includes(t)) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Index one past the end of the statement that starts at `from`. */
export function statementEnd(tokens: Token[], from: number): number {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i];
    if (i > from && depth === 0 && t.line !== tokens[i - 1].line) return i;
    if (t.kind !== 'punct') continue;
    if (OPENS.includes(t.text)) depth++;
    else if (CLOSES.includes(t.text)) {
      depth--;
      if (depth < 0) return i;
    } else if (t.text === ';' && depth === 0) return i;
  }
  return tokens.length;
}
