import { UserError, excerpt } from '../errors';
import type { NdArray, NpyLayout } from './npy';
import { parseNpy, parseNpyLayout } from './npy';
import { checkNpyData, readNpyHeader } from './npyColumns';
import type { ZipEntry, ZipSource } from './zip';
import { checkStoredCrc, isZip, readZip, selectZip } from './zip';

export { isZip };

/** One named array of an .npz archive. */
export interface NamedArray {
  /** The array's name: its member name without `.npy` (numpy's `savez` keyword). */
  name: string;
  array: NdArray;
}

const ARCHIVE = { archive: 'a readable .npz zip archive' };

const isNpyMember = (member: string): boolean => member.endsWith('.npy');

/** A member as messages name it: `<file>:<member>`. */
const memberLabel = (file: string, member: string): string => `${file}:${excerpt(member, 60)}`;

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
  const { entries, members } = readZip(bytes, name, isNpyMember, ARCHIVE);
  checkOnlyNpy(entries, name);
  const arrays: NamedArray[] = [];
  for (const [member, data] of members) {
    arrays.push({ name: member.slice(0, -4), array: parseNpy(data, memberLabel(name, member)) });
  }
  checkSomeArray(arrays.length, name);
  return arrays;
}

/** An array of a stored .npz member: its name, its .npy layout, where its values start. */
export interface NpzArrayAt {
  name: string;
  layout: NpyLayout;
  /** Offset of the first value in the archive. */
  dataStart: number;
}

/**
 * Where the arrays of an .npz archive lie in it, read by position from `source` (the zip
 * directory, each member's CRC-32 streamed once, each .npy header), when every .npy member is
 * stored (np.savez); undefined when one is deflated (np.savez_compressed: parseNpz reads it
 * whole). The refusals are parseNpz's, in its order.
 */
export function storedNpzArrays(source: ZipSource, name: string): NpzArrayAt[] | undefined {
  const { entries, chosen } = selectZip(source, name, isNpyMember, ARCHIVE);
  if (chosen.some((e) => e.method !== 0)) return undefined;
  for (const e of chosen) checkStoredCrc(source, e, name);
  checkOnlyNpy(entries, name);
  const arrays = chosen.map((e) => {
    const member = memberLabel(name, e.name);
    const read = (length: number, at: number) => source.read(length, e.dataStart + at);
    const layout = parseNpyLayout(readNpyHeader(read, e.size, member), member);
    checkNpyData(layout, e.size, member);
    return { name: e.name.slice(0, -4), layout, dataStart: e.dataStart + layout.dataStart };
  });
  checkSomeArray(arrays.length, name);
  return arrays;
}

/** Refuses an .npz member other than an .npy (folders aside). */
function checkOnlyNpy(entries: readonly ZipEntry[], name: string): void {
  const other = entries.find((e) => !e.name.endsWith('/') && !isNpyMember(e.name));
  if (other !== undefined) {
    throw new UserError(
      `${name}: expected only .npy members in the .npz archive, found '${excerpt(other.name, 40)}'`,
    );
  }
}

function checkSomeArray(count: number, name: string): void {
  if (count === 0)
    throw new UserError(`${name}: expected at least one array in the .npz archive, found none`);
}
