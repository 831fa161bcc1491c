/**
 * A probe set: the unlabelled, in-distribution inputs the activations are computed on.
 * `data` holds `shape[0]` examples in C order, batch first.
 */
export interface ProbeSet {
  /** The file or folder it was read from. */
  source: string;
  /** Batch first: [S, ...example shape]. */
  shape: number[];
  data: Float32Array;
  /** For each example, its index in the source (file order; sorted path order for images). */
  sampleIndices: number[];
  /** For a folder of images: the scale its pixel values were read at; absent for arrays and text. */
  imageScale?: ImageScale;
}

/** How image pixel values (0-255) are scaled: to [0, 1] (default), kept as 0-255, or to [-1, 1]. */
export type ImageScale = '0-1' | '0-255' | 'neg1-1';

export interface ProbeOptions {
  /** Draw this many examples (a deterministic subset from `seed`); default all. */
  samples?: number;
  /** Seed of the subset draw (default 0). */
  seed?: number;
  /**
   * The model's input shape, batch first (null = any). Examples are reshaped to it when their
   * value count fits, images are resized to it; a mismatch is a UserError.
   */
  inputShape?: (number | null)[];
  imageScale?: ImageScale;
  /** An image that fails to decode: skip it (with a warning) or fail (default). */
  onBadImage?: 'skip' | 'fail';
  /** Called with one-line warnings (skipped images, a subset larger than the set). */
  onWarning?: (message: string) => void;
  /** For .npz probes holding several arrays: the array to use. */
  array?: string;
}
