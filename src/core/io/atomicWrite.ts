import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';

/**
 * Writes a file through a temporary sibling and a rename, so a failure never leaves a
 * half-written output. Unwritable locations become a one-line UserError.
 */
export async function writeFileAtomic(file: string, contents: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await fs.writeFile(tmp, contents);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`${file}: cannot write output (${code}): expected a writable path`);
  }
}
