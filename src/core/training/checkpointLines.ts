/**
 * Finds the lines of a training script that save a model or a checkpoint, and resolves the
 * saved path when it is statically known. Pure (no VS Code): the extension turns the findings
 * into code lenses and diagnostics.
 */
import * as path from 'node:path';
import { PathEvaluator, matchingClose, splitArgs } from './pathExpr';
import { tokenizeScript } from './scriptTokens';
import type { ScriptLanguage, Token } from './scriptTokens';

export type { ScriptLanguage } from './scriptTokens';

export type CheckpointSaveKind =
  | 'torch.save'
  | 'model.save'
  | 'save_pretrained'
  | 'trainer.save_model'
  | 'ModelCheckpoint'
  | 'tf.saved_model.save'
  | 'safetensors.save_file';

export interface CheckpointSave {
  /** 0-based line of the start of the call (the callee's first token), as in VS Code. */
  line: number;
  /** 0-based column where the callee starts on `line`. */
  column: number;
  /** Column just past the call on `line`: after `)` when it closes there, else the end of the line's code. */
  endColumn: number;
  kind: CheckpointSaveKind;
  /** The callee as written, e.g. `self.model.save`, `torch.save`. */
  call: string;
  /**
   * Absolute, normalised path the call writes to, resolved relative to the script's folder;
   * null when the path is not statically known (a loop variable, a CLI argument...). For
   * `model.save('file://dir')` (TF.js) and `save_pretrained(dir)` this is the folder.
   */
  savedPath: string | null;
}

/** Where the call's path argument is: position and keyword name. */
interface PathArg {
  position: number;
  keyword: string;
}

interface Rule {
  kind: CheckpointSaveKind;
  arg: PathArg;
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
      return { kind: 'model.save', arg: { position: 0, keyword: '' } };
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
    return { kind: 'model.save', arg: { position: 0, keyword: 'filepath' } };
  return null;
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
 * `ModelCheckpoint(...)`, `tf.saved_model.save` and safetensors `save_file`. Comments and
 * strings that merely mention "save" are ignored; multi-line calls are reported at the line
 * where the callee starts. Results are in source order.
 * @param scriptPath absolute path of the script; relative saved paths resolve against its folder.
 */
export function findCheckpointSaves(
  text: string,
  language: ScriptLanguage,
  scriptPath: string,
): CheckpointSave[] {
  const python = language === 'python';
  const tokens = tokenizeScript(text, language);
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

    let savedPath: string | null = null;
    const arg = findArg(tokens, open, close, rule.arg, python);
    let value = arg ? evaluator.evaluate(arg[0], arg[1]) : null;
    if (!arg && rule.kind === 'trainer.save_model')
      value = trainingArgsOutputDir(tokens, evaluator, i);
    if (value !== null && !python) {
      // TF.js saves to indexeddb://, localstorage://, http:// are not files MemLens can open.
      value = fileSchemePath(value);
      if (value === null) continue;
    }
    if (value !== null && value !== '') savedPath = path.resolve(scriptDir, value);

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
      savedPath,
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
): string | null {
  let value: string | null = null;
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
    value = arg ? evaluator.evaluate(arg[0], arg[1]) : null;
  }
  return value;
}
