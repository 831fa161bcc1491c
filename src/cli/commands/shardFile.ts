import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/io/atomicWrite';
import type { ShardBlock, ShardPart, ShardSpec } from '../../core/mi/shards';

/**
 * A shard's part file: the 8 bytes `MLSHARD1`, a little-endian uint32 header length, the
 * header (UTF-8 JSON: what ran, on what, which shard, its blocks), then the blocks' values as
 * little-endian float64, block after block.
 */
const MAGIC = 'MLSHARD1';

/** The part layout this memlens writes and reads. */
export const PART_VERSION = 3;

/** The commands a shard can run. */
export const SHARDABLE = ['measure', 'analyze', 'compare'] as const;
export type ShardableName = (typeof SHARDABLE)[number];

/** An input file as the shard saw it. */
export interface InputDigest {
  path: string;
  bytes: number;
  sha256: string;
}

export interface PartHeader {
  format: 'memlens-shard';
  /**
   * 3: blocks are tiles of the pair matrix (2: contiguous runs of the row-ordered pair list;
   * 1: fingerprints digested the data whole, blocks named no kernel).
   */
  version: typeof PART_VERSION;
  command: ShardableName;
  /** The command's arguments without --shard and its outputs: every numbers option. */
  args: string[];
  /** Where relative paths in `args` resolve. */
  cwd: string;
  inputs: InputDigest[];
  /** The kernel rate (pairs/s a thread) the MI plan of every shard and the merge assumes. */
  miRate: string;
  shard: ShardSpec;
  blocks: Omit<ShardBlock, 'values'>[];
  valuesSha256: string;
}

/** What must agree between the parts of one merge. */
export function partKey(h: PartHeader): string {
  return JSON.stringify([h.command, h.args, h.cwd, h.inputs, h.miRate, h.shard.count]);
}

export async function writePart(
  file: string,
  header: Omit<PartHeader, 'valuesSha256' | 'blocks'>,
  blocks: ShardBlock[],
  signal?: AbortSignal,
): Promise<void> {
  const values = Buffer.alloc(8 * blocks.reduce((n, b) => n + b.values.length, 0));
  let at = 0;
  for (const b of blocks) {
    for (const x of b.values) at = values.writeDoubleLE(x, at);
  }
  const full: PartHeader = {
    ...header,
    blocks: blocks.map(({ values: _, ...rest }) => rest),
    valuesSha256: createHash('sha256').update(values).digest('hex'),
  };
  const json = Buffer.from(JSON.stringify(full), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  await writeFileAtomic(file, Buffer.concat([Buffer.from(MAGIC), length, json, values]), {
    signal,
  });
}

/** Reads and checks one part file; every failure is a UserError naming the file. */
export async function readPart(file: string): Promise<{ header: PartHeader; part: ShardPart }> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new UserError(`${file}: cannot read the part: ${(err as Error).message}`);
  }
  if (bytes.length < 12 || bytes.subarray(0, 8).toString('latin1') !== MAGIC) {
    throw new UserError(`${file}: expected a memlens shard part (MLSHARD1), found other bytes`);
  }
  const length = bytes.readUInt32LE(8);
  if (12 + length > bytes.length)
    throw new UserError(`${file}: truncated part: the header runs past the end of the file`);
  let header: PartHeader;
  try {
    header = JSON.parse(bytes.subarray(12, 12 + length).toString('utf8')) as PartHeader;
  } catch {
    throw new UserError(`${file}: the part's header is not valid JSON`);
  }
  if (header.format !== 'memlens-shard')
    throw new UserError(`${file}: expected a memlens shard part, found another format`);
  if (header.version !== PART_VERSION)
    throw new UserError(
      `${file}: expected a version ${PART_VERSION} memlens shard part (blocks tiled), found version ${String(header.version)} (another memlens made it: run the shards again)`,
    );
  const values = bytes.subarray(12 + length);
  const expected = 8 * header.blocks.reduce((n, b) => n + b.pairs, 0);
  if (values.length !== expected) {
    throw new UserError(
      `${file}: truncated part: expected ${expected} bytes of values, found ${values.length}`,
    );
  }
  if (createHash('sha256').update(values).digest('hex') !== header.valuesSha256)
    throw new UserError(`${file}: corrupt part: its values do not match their checksum`);
  let at = 0;
  const blocks = header.blocks.map((b) => {
    const v = new Float64Array(b.pairs);
    for (let i = 0; i < v.length; i++, at += 8) v[i] = values.readDoubleLE(at);
    return { ...b, values: v };
  });
  return { header, part: { file, shard: header.shard, blocks } };
}

/**
 * Digests of the regular files `args` name (and the `.layers.json` sidecar of an .npy, which
 * decides the layers of a dump), in order.
 */
export async function digestInputs(args: string[], cwd: string): Promise<InputDigest[]> {
  const out: InputDigest[] = [];
  const seen = new Set<string>();
  for (const arg of args) {
    if (arg.startsWith('-')) continue;
    for (const p of [arg, arg.replace(/\.npy$/i, '') + '.layers.json']) {
      if (seen.has(p)) continue;
      seen.add(p);
      const abs = p.startsWith('/') ? p : `${cwd}/${p}`;
      const stat = await fs.stat(abs).catch(() => null);
      if (stat === null || !stat.isFile()) continue;
      out.push({ path: p, bytes: stat.size, sha256: await sha256File(abs) });
    }
  }
  return out;
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
