import { UserError, excerpt } from '../errors';
import type { NdArray } from './npy';
import { parseNpy } from './npy';
import { isZip, readZip } from './zip';

export { isZip };

/** One named array of an .npz archive. */
export interface NamedArray {
  /** The array's name: its member name without `.npy` (numpy's `savez` keyword). */
  name: string;
  array: NdArray;
}

/**
 * Parses an .npz archive (numpy `savez` / `savez_compressed`: a zip of .npy members, stored
 * or deflated). Arrays come back in archive order, which is the order they were passed to
 * `savez`. The archive is read by the bounded reader of ./zip: only the .npy members are
 * inflated, within ZIP_INFLATE_LIMIT (4 GiB) together, each checked against its declared size
 * and CRC-32.
 */
export function parseNpz(bytes: Uint8Array, name: string): NamedArray[] {
  if (!isZip(bytes)) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new UserError(
      `${name}: expected an .npz file (a zip archive, magic PK), found ${head ? `bytes ${head}` : 'an empty file'}`,
    );
  }
  const { entries, members } = readZip(bytes, name, (member) => member.endsWith('.npy'), {
    archive: 'a readable .npz zip archive',
  });
  const other = entries.find((e) => !e.name.endsWith('/') && !e.name.endsWith('.npy'));
  if (other !== undefined) {
    throw new UserError(
      `${name}: expected only .npy members in the .npz archive, found '${excerpt(other.name, 40)}'`,
    );
  }
  const arrays: NamedArray[] = [];
  for (const [member, data] of members) {
    arrays.push({
      name: member.slice(0, -4),
      array: parseNpy(data, `${name}:${excerpt(member, 60)}`),
    });
  }
  if (arrays.length === 0)
    throw new UserError(`${name}: expected at least one array in the .npz archive, found none`);
  return arrays;
}
