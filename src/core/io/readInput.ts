import { promises as fs } from 'node:fs';
import { UserError } from '../errors';

function unreadable(file: string, what: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new UserError(`${file}: cannot read ${what} (${code})`);
}

/** Reads an input file's bytes; a missing or unreadable file is a one-line UserError naming `what`. */
export async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw unreadable(file, what, err);
  }
}

/** Reads an input file as UTF-8 text, with the same errors as readInput. */
export async function readInputText(file: string, what: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw unreadable(file, what, err);
  }
}
