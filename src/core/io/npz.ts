import { unzipSync } from 'fflate';
import { UserError } from '../errors';
import type { NdArray } from './npy';
import { parseNpy } from './npy';

/** One named array of an .npz archive. */
export interface NamedArray {
  /** The array's name: its member name without `.npy` (numpy's `savez` keyword). */
  name: string;
  array: NdArray;
}

export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    bytes[2] === 0x03 &&
    bytes[3] === 0x04
  );
}

/**
 * Parses an .npz archive (numpy `savez` / `savez_compressed`: a zip of .npy members, stored
 * or deflated). Arrays come back in archive order, which is the order they were passed to
 * `savez`.
 */
export function parseNpz(bytes: Uint8Array, name: string): NamedArray[] {
  if (!isZip(bytes)) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new UserError(
      `${name}: expected an .npz file (a zip archive, magic PK), found ${head ? `bytes ${head}` : 'an empty file'}`,
    );
  }
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (err) {
    throw new UserError(
      `${name}: expected a readable .npz zip archive, found a damaged one (${(err as Error).message})`,
    );
  }
  const arrays: NamedArray[] = [];
  for (const [member, data] of Object.entries(members)) {
    if (member.endsWith('/')) continue;
    if (!member.endsWith('.npy')) {
      throw new UserError(
        `${name}: expected only .npy members in the .npz archive, found '${member}'`,
      );
    }
    arrays.push({ name: member.slice(0, -4), array: parseNpy(data, `${name}:${member}`) });
  }
  if (arrays.length === 0)
    throw new UserError(`${name}: expected at least one array in the .npz archive, found none`);
  return arrays;
}
