/**
 * Finds the lines of a training script that save a model or a checkpoint, and resolves the
 * saved path when it is statically known, or says why it is not. Pure (no VS Code): the
 * extension turns the findings into code lenses and diagnostics.
 */
import * as path from 'node:path';
import { importsMlLibrary } from './mlImports';
import { PathEvaluator } from './pathExpr';
import type { PathPattern } from './pathExpr';
import { tokenizeScript } from './scriptTokens';
import type { ScriptLanguage, Token } from './scriptTokens';
import { matchingClose, splitArgs } from './tokenRanges';
import { kerasFilepath, unresolvedPath } from './unresolvedPath';
import type { UnresolvedPath } from './unresolvedPath';

export type { ScriptLanguage } from './scriptTokens';
export type { UnresolvedPath } from './unresolvedPath';

export type CheckpointSaveKind =
  | 'torch.save'
  | 'model.save'
  | 'save_pretrained'
  | 'trainer.save_model'
  | 'ModelCheckpoint'
  | 'tf.saved_model.save'
  | 'safetensors.save_file';

/** One call that saves a model: where it is, what it is, and the path it saves to if known. */
export type CheckpointSave = {
  /** 0-based line of the start of the call (the callee's first token), as in VS Code. */
  line: number;
  /** 0-based column where the callee starts on `line`. */
  column: number;
  /** Column just past the call on `line`: after `)` when it closes there, else the end of the line's code. */
  endColumn: number;
  kind: CheckpointSaveKind;
  /** The callee as written, e.g. `self.model.save`, `torch.save`. */
  call: string;
} & (
  | {
      /**
       * Absolute, normalised path the call writes to, resolved relative to the script's
       * folder. For `model.save('file://dir')` (TF.js) and `save_pretrained(dir)` this is the
       * folder.
       */
      savedPath: string;
      unresolved: null;
    }
  | {
      /** Not statically known (a loop variable, a CLI argument...). */
      savedPath: null;
      /** Why, and which files the call may write. */
      unresolved: UnresolvedPath;
    }
);

/** Where the call's path argument is: position and keyword name. */
interface PathArg {
  position: number;
  keyword: string;
}

interface Rule {
  kind: CheckpointSaveKind;
  arg: PathArg;
  /** A bare `x.save(...)`, which ORMs share: see isModelSave. */
  bareSave?: true;
}

const MODELISH = /model|net|classifier|encoder|generator|checkpoint/i;
const NOT_MODEL =
  /tokenizer|processor|feature_extractor|image|img|fig|plt|np|numpy|pd|df|json|pickle|joblib/i;

/** Matches a call by its dotted callee; null when it is not a checkpoint save. */
function ruleFor(
  chain: string[],
  complexReceiver: string | null,
  language: ScriptLanguage,
  mentionsSafetensors: boolean,
): Rule | null {
  const last = chain[chain.length - 1];
  const receiver = chain.length >= 2 ? chain[chain.length - 2] : complexReceiver;
  const joined = chain.join('.');
  if (language !== 'python') {
    if (
      last === 'save' &&
      receiver !== null &&
      MODELISH.test(receiver) &&
      !NOT_MODEL.test(receiver)
    )
      return { kind: 'model.save', arg: { position: 0, keyword: '' }, bareSave: true };
    return null;
  }
  if (joined === 'torch.save') return { kind: 'torch.save', arg: { position: 1, keyword: 'f' } };
  if (joined.endsWith('saved_model.save'))
    return { kind: 'tf.saved_model.save', arg: { position: 1, keyword: 'export_dir' } };
  if (last === 'save_pretrained' && receiver !== null && !NOT_MODEL.test(receiver))
    return { kind: 'save_pretrained', arg: { position: 0, keyword: 'save_directory' } };
  if (last === 'ModelCheckpoint')
    return { kind: 'ModelCheckpoint', arg: { position: 0, keyword: 'filepath' } };
  if (
    last === 'save_file' &&
    (chain.includes('safetensors') || (chain.length === 1 && mentionsSafetensors))
  )
    return { kind: 'safetensors.save_file', arg: { position: 1, keyword: 'filename' } };
  if (last === 'save_model') {
    if (chain.includes('safetensors') || (chain.length === 1 && mentionsSafetensors))
      return { kind: 'safetensors.save_file', arg: { position: 1, keyword: 'filename' } };
    if (receiver !== null && /trainer/i.test(receiver))
      return { kind: 'trainer.save_model', arg: { position: 0, keyword: 'output_dir' } };
    if (receiver === 'models')
      return { kind: 'model.save', arg: { position: 1, keyword: 'filepath' } };
    return null;
  }
  if (last === 'save' && receiver !== null && MODELISH.test(receiver) && !NOT_MODEL.test(receiver))
    return { kind: 'model.save', arg: { position: 0, keyword: 'filepath' }, bareSave: true };
  return null;
}

/** A string naming a model file, or a TF.js file:// URL. */
const MODEL_FILE_STRING = /file:\/\/|\.(?:keras|h5|hdf5|pt|pth|ckpt|onnx|safetensors|tflite|pb)\b/i;
/** Names that build paths: os.path.join, path.resolve, pathlib.Path, __file__... */
const PATH_NAMES = new Set([
  'os',
  'path',
  'pathlib',
  'Path',
  '__file__',
  '__dirname',
  '__filename',
]);

const NOT_PATHS = ['function', 'async', 'lambda', 'None', 'null', 'undefined', 'True', 'False'];

/** Literals that are not a path: an options object, a list, a callback, a number, None. */
function isOtherLiteral(tokens: Token[], arg: [number, number]): boolean {
  const first = tokens[arg[0]];
  if (first.kind === 'number' || (first.kind === 'punct' && ['{', '['].includes(first.text)))
    return true;
  if (first.kind === 'ident' && NOT_PATHS.includes(first.text)) return true;
  return tokens.slice(arg[0], arg[1]).some((t) => t.kind === 'punct' && t.text === '=>');
}

/**
 * Whether a path argument looks like a path: the evaluator resolves it to a non-empty string
 * (a string literal, a join of known parts, a variable assigned one), or one of its tokens is
 * path-ish: an f-string or template literal, a string naming a model file (.keras, .h5, .pt...)
 * or a file:// URL, a path-building name (os.path.join, path.join, Path, __file__, __dirname),
 * or in Python a `/` (a pathlib join). A bare variable the evaluator cannot follow is not.
 */
function looksLikePath(
  tokens: Token[],
  arg: [number, number],
  value: PathPattern | null,
  python: boolean,
): boolean {
  if (value !== null && value.unknown.length === 0 && value.pattern !== '') return true;
  for (let i = arg[0]; i < arg[1]; i++) {
    const t = tokens[i];
    if (t.kind === 'fstring' || t.kind === 'template') return true;
    if (t.kind === 'string' && MODEL_FILE_STRING.test(t.text)) return true;
    if (t.kind === 'ident' && PATH_NAMES.has(t.text)) return true;
    if (python && t.kind === 'punct' && t.text === '/') return true;
  }
  return false;
}

/**
 * Whether a bare `x.save(...)` saves a model rather than a record (Django's
 * `article_model.save()`, Mongoose's `await userModel.save()`). Keras and TF.js always take
 * a path, so the call needs an argument that is not another kind of literal (isOtherLiteral);
 * then the script must import an ML library, or the argument must look like a path.
 */
function isModelSave(
  tokens: Token[],
  arg: [number, number] | null,
  value: PathPattern | null,
  python: boolean,
  mlImport: boolean,
): boolean {
  if (arg === null || isOtherLiteral(tokens, arg)) return false;
  return mlImport || looksLikePath(tokens, arg, value, python);
}

/**
 * The callee names whose calls the finder may report. A script that mentions none of them as a
 * word has no finding, so it is not tokenised: most scripts a user opens are not training ones.
 */
const SAVE_CALLEES = /\b(?:save|save_pretrained|save_model|save_file|ModelCheckpoint)\b/;

/** Whether a script may hold a checkpoint save (the cheap pre-check of findCheckpointSaves). */
export function mentionsSaveCallee(text: string): boolean {
  return SAVE_CALLEES.test(text);
}

/** The token range of the argument at `arg` (keyword first, then position), or null. */
function findArg(
  tokens: Token[],
  open: number,
  close: number,
  arg: PathArg,
  python: boolean,
): [number, number] | null {
  const parts = splitArgs(tokens, open + 1, close);
  const isKw = (p: [number, number]): boolean =>
    python &&
    tokens[p[0]].kind === 'ident' &&
    tokens[p[0] + 1]?.kind === 'punct' &&
    tokens[p[0] + 1].text === '=';
  if (arg.keyword) {
    const kw = parts.find((p) => isKw(p) && tokens[p[0]].text === arg.keyword);
    if (kw) return [kw[0] + 2, kw[1]];
  }
  const positional = parts.filter((p) => !isKw(p));
  const p = positional[arg.position];
  return p && p[0] < p[1] ? p : null;
}

/** Strips the TF.js `file://` scheme; other schemes (indexeddb://, http://) are not files. */
function fileSchemePath(value: string): string | null {
  if (value.startsWith('file://')) return value.slice('file://'.length);
  return /^[a-z][\w+.-]*:\/\//i.test(value) ? null : value;
}

/**
 * Finds every model/checkpoint save in a training script: PyTorch `torch.save`, Keras and
 * TF.js `model.save`, Hugging Face `save_pretrained` and `trainer.save_model`, Keras
 * `ModelCheckpoint(...)`, `tf.saved_model.save` and safetensors `save_file`. A bare
 * `x.save(...)` counts only with a path argument, in a script that imports an ML library or
 * when the argument looks like a path (isModelSave): Django's and Mongoose's saves do not.
 * Comments and strings that merely mention "save" are ignored; multi-line calls are reported at
 * the line where the callee starts. Results are in source order.
 * @param scriptPath absolute path of the script; relative saved paths resolve against its folder.
 */
export function findCheckpointSaves(
  text: string,
  language: ScriptLanguage,
  scriptPath: string,
): CheckpointSave[] {
  if (!mentionsSaveCallee(text)) return [];
  const python = language === 'python';
  const tokens = tokenizeScript(text, language);
  const mlImport = importsMlLibrary(tokens, language);
  const evaluator = new PathEvaluator(tokens, language, scriptPath);
  const mentionsSafetensors =
    python && tokens.some((t) => t.kind === 'ident' && t.text === 'safetensors');
  const lines = text.split('\n');
  const scriptDir = path.dirname(scriptPath);
  const found: CheckpointSave[] = [];

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'ident' || tokens[i + 1]?.kind !== 'punct' || tokens[i + 1].text !== '(')
      continue;
    // Walk back over `a.b.c` to the start of the callee.
    let k = i;
    while (
      k >= 2 &&
      ['.', '?.'].includes(tokens[k - 1].text) &&
      tokens[k - 1].kind === 'punct' &&
      tokens[k - 2].kind === 'ident'
    )
      k -= 2;
    const complexReceiver =
      k >= 2 && tokens[k - 1].kind === 'punct' && ['.', '?.'].includes(tokens[k - 1].text)
        ? receiverNames(tokens, k - 2)
        : null;
    const before = tokens[k - 1];
    if (before?.kind === 'ident' && ['def', 'function', 'class'].includes(before.text)) continue;
    const chain: string[] = [];
    for (let j = k; j <= i; j += 2) chain.push(tokens[j].text);
    const rule = ruleFor(chain, complexReceiver, language, mentionsSafetensors);
    if (!rule) continue;
    const open = i + 1;
    const close = matchingClose(tokens, open);
    if (close < 0) continue;
    // A method definition (JS/TS `save(path) { ... }`) is not a call.
    if (!python && chain.length === 1 && tokens[close + 1]?.text === '{') continue;

    const arg = findArg(tokens, open, close, rule.arg, python);
    let value = arg ? evaluator.pattern(arg[0], arg[1]) : null;
    if (rule.bareSave && !isModelSave(tokens, arg, value, python, mlImport)) continue;
    if (!arg && rule.kind === 'trainer.save_model')
      value = trainingArgsOutputDir(tokens, evaluator, i);
    if (value !== null && !python) {
      // TF.js saves to indexeddb://, localstorage://, http:// are not files MemLens can open.
      const file = fileSchemePath(value.pattern);
      if (file === null) continue;
      value = { ...value, pattern: file };
    }
    let kerasField: string | null = null;
    if (value !== null && rule.kind === 'ModelCheckpoint') {
      const formatted = kerasFilepath(value.pattern);
      kerasField = formatted.firstField;
      value = { ...value, pattern: formatted.pattern };
    }
    const savedPath =
      value !== null && value.unknown.length === 0 && kerasField === null && value.pattern !== ''
        ? path.resolve(scriptDir, value.pattern)
        : null;

    const start = tokens[k];
    const closeTok = tokens[close];
    const lineText = lines[start.line] ?? '';
    const endColumn =
      closeTok.line === start.line ? closeTok.column + 1 : lineText.trimEnd().length;
    found.push({
      line: start.line,
      column: start.column,
      endColumn,
      kind: rule.kind,
      call: chain.join('.'),
      ...(savedPath !== null
        ? { savedPath, unresolved: null }
        : { savedPath, unresolved: unresolvedPath(value, kerasField, scriptDir) }),
    });
  }
  return found;
}

/**
 * The names in a receiver that is itself a call or an index (`get_model().save`,
 * `models[0].save`), ending at token `last`: the bracketed part and the dotted name before it.
 */
function receiverNames(tokens: Token[], last: number): string {
  const names: string[] = [];
  let j = last;
  while (
    j >= 0 &&
    tokens[j].kind === 'punct' &&
    (tokens[j].text === ')' || tokens[j].text === ']')
  ) {
    let depth = 0;
    for (; j >= 0; j--) {
      const t = tokens[j];
      if (t.kind === 'punct' && (t.text === ')' || t.text === ']')) depth++;
      else if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) depth--;
      else if (t.kind === 'ident') names.unshift(t.text);
      if (depth === 0) break;
    }
    j--;
    while (j >= 0 && tokens[j].kind === 'ident') {
      names.unshift(tokens[j].text);
      if (j >= 1 && tokens[j - 1].text === '.') j -= 2;
      else break;
    }
  }
  return names.join('.');
}

/** `trainer.save_model()` with no argument writes to `TrainingArguments(output_dir=...)`. */
function trainingArgsOutputDir(
  tokens: Token[],
  evaluator: PathEvaluator,
  before: number,
): PathPattern | null {
  let value: PathPattern | null = null;
  for (let i = 0; i < before; i++) {
    if (
      tokens[i].kind !== 'ident' ||
      tokens[i].text !== 'TrainingArguments' ||
      tokens[i + 1]?.text !== '('
    )
      continue;
    const close = matchingClose(tokens, i + 1);
    if (close < 0) continue;
    const arg = findArg(tokens, i + 1, close, { position: 0, keyword: 'output_dir' }, true);
    value = arg ? evaluator.pattern(arg[0], arg[1]) : null;
  }
  return value;
}
