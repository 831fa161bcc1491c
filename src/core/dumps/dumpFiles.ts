import * as path from 'node:path';

/** Extensions of activation dumps: read as they are, no model and no probe. */
export const DUMP_EXTENSIONS: readonly string[] = ['.npy', '.npz', '.safetensors'];

/** Whether a source is an activation dump (read as is) rather than a model (run on a probe). */
export function isActivationDump(source: string): boolean {
  return DUMP_EXTENSIONS.includes(path.extname(source).toLowerCase());
}
