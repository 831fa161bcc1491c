/**
 * A small tokenizer for Python and JavaScript/TypeScript training scripts. It knows just
 * enough of each language to skip comments, read string literals (Python prefixes and triple
 * quotes, f-strings, JS template literals, JS regex literals) and report positions, so that
 * the checkpoint-line finder never matches text inside a comment or a string.
 */

export type ScriptLanguage = 'python' | 'javascript' | 'typescript';

export type TokenKind = 'ident' | 'string' | 'fstring' | 'template' | 'number' | 'punct';

export interface Token {
  kind: TokenKind;
  /**
   * ident/number/punct: the source text. string: the decoded value. fstring/template: the
   * raw body between the quotes (placeholders still in it), for later evaluation.
   */
  text: string;
  /** Offsets into the script text, end exclusive. */
  start: number;
  end: number;
  /** 0-based line and column of `start`. */
  line: number;
  column: number;
}

const OPERATORS = [
  '===',
  '!==',
  '**=',
  '//=',
  '...',
  '==',
  '!=',
  '<=',
  '>=',
  '=>',
  '**',
  '//',
  '+=',
  '-=',
  '*=',
  '/=',
  ':=',
  '->',
  '&&',
  '||',
  '??',
  '?.',
];

function isIdentStart(c: string): boolean {
  const code = c.charCodeAt(0);
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    code === 95 ||
    code === 36 ||
    code >= 0xc0
  );
}

function isIdentPart(c: string): boolean {
  const code = c.charCodeAt(0);
  return isIdentStart(c) || (code >= 48 && code <= 57);
}

/** Tokens after which a JS `/` is division rather than the start of a regex literal. */
function slashIsDivision(prev: Token | undefined): boolean {
  if (!prev) return false;
  if (prev.kind === 'ident')
    return !['return', 'typeof', 'case', 'in', 'of', 'new', 'delete', 'void'].includes(prev.text);
  if (prev.kind === 'punct') return prev.text === ')' || prev.text === ']' || prev.text === '}';
  return true;
}

function decodeEscapes(body: string): string {
  return body.replace(
    /\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])/g,
    (_m, e: string) => {
      switch (e[0]) {
        case 'n':
          return '\n';
        case 't':
          return '\t';
        case 'r':
          return '\r';
        case '0':
          return '\0';
        case '\n':
        case '\r':
          return '';
        case 'x':
          return String.fromCharCode(parseInt(e.slice(1), 16));
        case 'u':
          return String.fromCodePoint(parseInt(e.replace(/[u{}]/g, ''), 16));
        default:
          return e;
      }
    },
  );
}

/** Splits a script into tokens, dropping whitespace and comments. Never throws. */
export function tokenizeScript(text: string, language: ScriptLanguage): Token[] {
  const python = language === 'python';
  const tokens: Token[] = [];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  let lineIdx = 0;
  const push = (kind: TokenKind, tokenText: string, start: number, end: number): void => {
    while (lineIdx + 1 < lineStarts.length && lineStarts[lineIdx + 1] <= start) lineIdx++;
    tokens.push({
      kind,
      text: tokenText,
      start,
      end,
      line: lineIdx,
      column: start - lineStarts[lineIdx],
    });
  };

  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    // Comments.
    if (python && c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (!python && c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (!python && c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    // Python strings, with an optional prefix (r, b, u, f and their pairs).
    if (python && (c === "'" || c === '"' || 'rRbBuUfF'.includes(c))) {
      const m = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(text.slice(i, i + 5));
      if (m && (m[1] === '' || !isIdentPart(text[i - 1] ?? ' '))) {
        const prefix = m[1].toLowerCase();
        const quote = m[2];
        const bodyStart = i + m[0].length;
        let j = bodyStart;
        let closed = false;
        while (j < n) {
          if (text[j] === '\\') {
            j += 2;
            continue;
          }
          if (quote.length === 1 && text[j] === '\n') break;
          if (text.startsWith(quote, j)) {
            closed = true;
            break;
          }
          j++;
        }
        const body = text.slice(bodyStart, Math.min(j, n));
        const end = closed ? j + quote.length : j;
        const raw = prefix.includes('r');
        if (prefix.includes('f')) push('fstring', body, i, end);
        else push('string', raw ? body : decodeEscapes(body), i, end);
        i = end;
        continue;
      }
    }
    // JS strings and template literals.
    if (!python && (c === '"' || c === "'")) {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      push('string', decodeEscapes(text.slice(i + 1, Math.min(j, n))), i, Math.min(j + 1, n));
      i = Math.min(j + 1, n);
      continue;
    }
    if (!python && c === '`') {
      const end = skipTemplate(text, i);
      push('template', text.slice(i + 1, Math.max(i + 1, end - 1)), i, end);
      i = end;
      continue;
    }
    if (!python && c === '/' && !slashIsDivision(tokens[tokens.length - 1])) {
      // A regex literal: skip to the closing slash outside a character class, then flags.
      let j = i + 1;
      let inClass = false;
      while (j < n && text[j] !== '\n') {
        if (text[j] === '\\') j++;
        else if (text[j] === '[') inClass = true;
        else if (text[j] === ']') inClass = false;
        else if (text[j] === '/' && !inClass) break;
        j++;
      }
      j++;
      while (j < n && isIdentPart(text[j])) j++;
      push('punct', 'regex', i, j);
      i = j;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(text[j])) j++;
      push('ident', text.slice(i, j), i, j);
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(text[j])) j++;
      push('number', text.slice(i, j), i, j);
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i)) ?? c;
    push('punct', op, i, i + op.length);
    i += op.length;
  }
  return tokens;
}

/** Returns the offset just past the closing backtick of the template literal at `start`. */
function skipTemplate(text: string, start: number): number {
  let j = start + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === '`') return j + 1;
    if (c === '$' && text[j + 1] === '{') {
      j = skipBraces(text, j + 1);
      continue;
    }
    j++;
  }
  return text.length;
}

/** From an opening brace, returns the offset past its matching closing brace (strings aware). */
export function skipBraces(text: string, open: number): number {
  let depth = 0;
  let j = open;
  while (j < text.length) {
    const c = text[j];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return j + 1;
    } else if (c === '`') {
      j = skipTemplate(text, j);
      continue;
    } else if (c === '"' || c === "'") {
      let k = j + 1;
      while (k < text.length && text[k] !== c && text[k] !== '\n') k += text[k] === '\\' ? 2 : 1;
      j = k + 1;
      continue;
    }
    j++;
  }
  return text.length;
}
