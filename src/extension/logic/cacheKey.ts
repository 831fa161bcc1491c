/**
 * Cache keys of analysis results: the SHA-256 of the model's content (model.json with every
 * weight shard it lists), of the probe data, and of the parameters that change the numbers.
 * A result is reused only when all three match, so editing a weights file, the probe set or a
 * setting gives a fresh analysis. No VS Code imports.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/io/contentHash';

/**
 * Bumped when the engine's numbers or the reports' shape change, so old cached results are not
 * reused (4: compare reports version 2, value ranges and the scale check).
 */
export const RESULT_FORMAT = 4;

/** The cache key of one analysis: hex SHA-256 over the content hashes and the parameters. */
export function resultCacheKey(input: {
  modelSha256: string;
  probeSha256: string | null;
  params: Record<string, unknown>;
}): string {
  const text = canonicalJson({ format: RESULT_FORMAT, ...input });
  return createHash('sha256').update(text).digest('hex');
}
