/** The parts of a saved path that a script only knows when it runs, and how to name them. */
import type { Token } from './scriptTokens';

/** Stands for an unknown part in a path pattern (no real path holds a NUL). */
export const WILDCARD = '\u0000';

/** A part of a path that is only known when the script runs, and why. */
export interface UnknownPart {
  /** The expression as written, shortened: `epoch`, `sys.argv[1]`. */
  expr: string;
  /** "a loop variable", "a parameter of `save`", "a command-line argument"... */
  why: string;
}

/** Why a name with no binding and no assignment before its use is unknown. */
export const NOT_ASSIGNED = 'which the script does not assign';

const MAX_EXPR = 40;

/** The tokens `[from, to)` as source text (strings re-quoted), at most 40 characters. */
export function sourceText(tokens: Token[], from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const t = tokens[i];
    const wordy = t.kind !== 'punct';
    if (i > from && wordy && tokens[i - 1].kind !== 'punct') out += ' ';
    if (t.kind === 'string') out += JSON.stringify(t.text);
    else if (t.kind === 'fstring') out += `f"${t.text}"`;
    else if (t.kind === 'template') out += `\`${t.text}\``;
    else out += t.text;
  }
  return out.length > MAX_EXPR ? out.slice(0, MAX_EXPR - 1) + '…' : out;
}

/** Why an expression the evaluator cannot follow (a call, an attribute, an index) is unknown. */
export function runtimeWhy(expr: string): string {
  if (/\b(?:argv|args|opts|flags|FLAGS|parse_args)\b/.test(expr)) return 'a command-line argument';
  if (/\b(?:environ|getenv|env)\b/.test(expr)) return 'an environment variable';
  return 'which is known only when the script runs';
}

/** "the path depends on `epoch`, a loop variable". */
export function dependsOn(part: UnknownPart): string {
  return `the path depends on \`${part.expr}\`, ${part.why}`;
}
