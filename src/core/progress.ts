/** What a long-running core job reports. `done`/`total` count units of the named stage. */
export interface Progress {
  stage: string;
  done: number;
  total: number;
  /** Free text for display, e.g. the layer being captured. */
  detail?: string;
  /** The MI stage: pairs per second so far (all threads) and the seconds left at that rate. */
  eta?: { pairsPerSecond: number; remainingSeconds: number };
}

/** Options every long core job accepts: cooperative cancellation and progress reports. */
export interface JobOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}
