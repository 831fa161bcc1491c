/** The `name = <expr>` statements of a script, which the path evaluator follows. */
import type { ScriptLanguage, Token } from './scriptTokens';
import { statementEnd } from './tokenRanges';

/** One `name = <expr>` statement: the tokens of the right-hand side. */
export interface Assignment {
  name: string;
  offset: number;
  tokens: Token[];
  from: number;
  to: number;
}

/** Whether the declaration at token `i` (after const/let/var) is a JS `for (let i = 0; ...)` header. */
function inForHeader(tokens: Token[], i: number): boolean {
  const open = tokens[i - 2];
  const keyword = tokens[i - 3]?.text === 'await' ? tokens[i - 4] : tokens[i - 3];
  return open?.text === '(' && keyword?.kind === 'ident' && keyword.text === 'for';
}

/** Finds `NAME = expr` (Python, with an optional annotation) and `const|let|var NAME = expr` (JS). */
export function collectAssignments(tokens: Token[], language: ScriptLanguage): Assignment[] {
  const out: Assignment[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'ident') continue;
    const prev = tokens[i - 1];
    const declared = ['const', 'let', 'var'].includes(prev?.text ?? '');
    const statementStart = !prev || prev.line !== t.line || prev.text === ';' || declared;
    // A loop variable initialised in a for header is not a constant (see bindings.ts).
    if (!statementStart || (declared && inForHeader(tokens, i))) continue;
    let eq = i + 1;
    if (tokens[eq]?.text === ':') {
      // Annotated assignment: NAME: type = expr.
      while (eq < tokens.length && tokens[eq].line === t.line && tokens[eq].text !== '=') eq++;
    }
    if (tokens[eq]?.text !== '=' || tokens[eq].kind !== 'punct') continue;
    if (language !== 'python' && tokens[i + 1]?.text === ':' && !declared) continue;
    const end = statementEnd(tokens, eq + 1);
    out.push({ name: t.text, offset: t.start, tokens, from: eq + 1, to: end });
  }
  return out;
}
