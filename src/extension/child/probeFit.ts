/**
 * The analysis child's probeFit job, for the probe picker: each candidate file's shape and
 * dtype from its header or first lines (probePeek.ts), whether it fits the model's input by
 * the engine's own rule (shapeFit), and a warning about integer or constant values. Bounded
 * in time: files not reached within {@link PREVIEW_BUDGET_MS} of the model's opening are
 * listed without a preview.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { OpenModelOptions } from '../../core/capture/format';
import { openModel, resolveModel } from '../../core/capture/registry';
import { UserError } from '../../core/errors';
import { shapeFit, showShape } from '../../core/probe/probeFit';
import { peekProbe } from '../../core/probe/probePeek';
import { probeValueWarning } from '../../core/probe/probeStats';
import type { ProbeCandidate, ProbeFitJob, ProbeFitResult } from './protocol';

/** The time all previews together may take (ms); a long CSV's row count stops at it. */
export const PREVIEW_BUDGET_MS = 8000;

/** The input shape of `model`, or why it is not known without running it. */
async function modelInput(
  model: string,
  open: OpenModelOptions,
): Promise<{ inputShape: (number | null)[] | null; modelNote: string | null }> {
  try {
    const { format } = await resolveModel(model);
    if (format.probeAtOpen)
      return {
        inputShape: null,
        modelNote: `${format.description}: its input shape is found by running it on the probe`,
      };
    const handle = await openModel(model, open);
    try {
      return { inputShape: handle.inputShape, modelNote: null };
    } finally {
      handle.dispose();
    }
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { inputShape: null, modelNote: err.message };
  }
}

async function preview(
  file: string,
  inputShape: (number | null)[] | null,
  signal: AbortSignal,
): Promise<ProbeCandidate> {
  const none = { path: file, shape: null, dtype: null, fits: null, warning: null };
  if (signal.aborted) return { ...none, why: 'not previewed: out of time' };
  if ((await fs.stat(file).catch(() => null))?.isDirectory())
    return {
      ...none,
      fits: inputShape === null ? null : true,
      why: 'images, resized to the model input',
    };
  try {
    const peek = await peekProbe(file, { signal });
    const fit = inputShape === null ? null : shapeFit(peek.shape, inputShape);
    const rowSize = peek.shape.slice(1).reduce((a, b) => a * b, 1);
    return {
      path: file,
      shape: peek.shape,
      dtype: peek.dtype,
      fits: fit?.fits ?? null,
      why: fit?.why ?? `examples of shape ${showShape(peek.shape.slice(1))}`,
      warning: probeValueWarning(
        path.basename(file),
        peek.data,
        peek.rows,
        rowSize,
        peek.rowsCounted ? peek.shape[0] : null,
      ),
    };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { ...none, fits: false, why: err.message };
  }
}

/** Runs a probeFit job: the model's input once, then each candidate in turn. */
export async function probeFit(job: ProbeFitJob, open: OpenModelOptions): Promise<ProbeFitResult> {
  const { inputShape, modelNote } =
    job.model === null ? { inputShape: null, modelNote: null } : await modelInput(job.model, open);
  const signal = AbortSignal.timeout(PREVIEW_BUDGET_MS);
  const candidates: ProbeCandidate[] = [];
  for (const file of job.candidates) candidates.push(await preview(file, inputShape, signal));
  return { inputShape, modelNote, candidates };
}
