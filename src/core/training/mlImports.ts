/**
 * Whether a script imports a library that saves models. A bare `x.save(...)` means a model
 * checkpoint only in such a script; elsewhere it is as likely an ORM (Django, Mongoose).
 */
import type { ScriptLanguage, Token } from './scriptTokens';

/** Top-level Python packages that train or save models (pytorch_lightning: lightning's old name). */
const PYTHON_ML = new Set([
  'torch',
  'tensorflow',
  'keras',
  'transformers',
  'lightning',
  'pytorch_lightning',
  'safetensors',
  'jax',
  'flax',
  'sklearn',
]);

/** `@tensorflow/tfjs`, `@tensorflow/tfjs-node`, `onnxruntime-web`, and their subpaths. */
const JS_ML = /^(?:@tensorflow\/tfjs(?:-[\w-]+)?|onnxruntime(?:-[\w-]+)?)(?:\/|$)/;

const isIdent = (t: Token | undefined, text: string): boolean =>
  t !== undefined && t.kind === 'ident' && t.text === text;
const isPunct = (t: Token | undefined, text: string): boolean =>
  t !== undefined && t.kind === 'punct' && t.text === text;

/** `import a.b, c as d` and `from a.b import c`: the first name of each module. */
function pythonImports(tokens: Token[]): string[] {
  const modules: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const first = i === 0 || tokens[i - 1].line !== t.line;
    if (!first) continue;
    if (isIdent(t, 'from') && tokens[i + 1]?.kind === 'ident') modules.push(tokens[i + 1].text);
    else if (isIdent(t, 'import')) {
      for (let j = i + 1; j < tokens.length && tokens[j].line === t.line; j++) {
        const prev = tokens[j - 1];
        if (tokens[j].kind === 'ident' && (j === i + 1 || isPunct(prev, ',')))
          modules.push(tokens[j].text);
      }
    }
  }
  return modules;
}

/** `require('m')`, `import('m')`, `import ... from 'm'`, `import 'm'`: the module strings. */
function jsImports(tokens: Token[]): string[] {
  const modules: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'string') continue;
    const prev = tokens[i - 1];
    const called =
      isPunct(prev, '(') && (isIdent(tokens[i - 2], 'require') || isIdent(tokens[i - 2], 'import'));
    if (called || isIdent(prev, 'from') || isIdent(prev, 'import')) modules.push(t.text);
  }
  return modules;
}

export function importsMlLibrary(tokens: Token[], language: ScriptLanguage): boolean {
  return language === 'python'
    ? pythonImports(tokens).some((m) => PYTHON_ML.has(m))
    : jsImports(tokens).some((m) => JS_ML.test(m));
}
