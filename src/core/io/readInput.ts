import { createReadStream, promises as fs } from 'node:fs';
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

/**
 * Streams an input file's bytes to `onChunk` (64 KiB at a time: a file of gigabytes is never
 * held whole), with the same errors as readInput.
 */
export async function streamInput(
  file: string,
  what: string,
  onChunk: (chunk: Buffer) => void,
): Promise<void> {
  try {
    for await (const chunk of createReadStream(file)) onChunk(chunk as Buffer);
  } catch (err) {
    throw unreadable(file, what, err);
  }
}
