import type { CapturedLayer, SequenceReduction } from '../format';

/** How an output wider than batch x features becomes one row per example. */
export type Reduction = CapturedLayer['reduction'];

/**
 * The one rule for every format: an output of `rank` (batch included) stays as it is at rank
 * 2; conv-like outputs and every rank >= 4 are averaged over their spatial axes (global
 * average pooling, one value per channel); other rank-3 outputs are sequences, read at their
 * first token (the [CLS] position) or averaged over tokens.
 */
export function reductionFor(
  rank: number,
  convLike: boolean,
  sequence: SequenceReduction,
): Reduction {
  if (rank <= 2) return 'none';
  if (rank >= 4 || convLike) return 'global-average-pool';
  return sequence === 'mean' ? 'mean-tokens' : 'first-token';
}

/**
 * Applies a reduction to one batch output held row-major with the batch first (`dims`),
 * channels on axis 1 when `channelsFirst` (NCHW) else last: the width of a row and its
 * value at (example, feature), computed on demand.
 */
export function reduceRowMajor(
  get: (index: number) => number,
  dims: readonly number[],
  reduction: Reduction,
  channelsFirst: boolean,
): { width: number; at: (s: number, j: number) => number } {
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  switch (reduction) {
    case 'none':
      return { width: per, at: (s, j) => get(s * per + j) };
    case 'global-average-pool': {
      const channels = channelsFirst ? dims[1] : dims[dims.length - 1];
      const spatial = per / channels;
      return {
        width: channels,
        at: (s, j) => {
          let sum = 0;
          for (let k = 0; k < spatial; k++)
            sum += get(channelsFirst ? s * per + j * spatial + k : s * per + k * channels + j);
          return sum / spatial;
        },
      };
    }
    case 'first-token':
      return { width: dims[2], at: (s, j) => get(s * per + j) };
    case 'mean-tokens': {
      const [, tokens, features] = dims;
      return {
        width: features,
        at: (s, j) => {
          let sum = 0;
          for (let k = 0; k < tokens; k++) sum += get(s * per + k * features + j);
          return sum / tokens;
        },
      };
    }
  }
}
