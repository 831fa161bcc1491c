/**
 * A small seeded generator (mulberry32): deterministic across platforms, so neuron caps,
 * probe subsets and sampled pairs are reproducible from the seed in a report.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** k distinct indices from [0, n), in increasing order (partial Fisher-Yates). */
  sample(n: number, k: number): number[] {
    const idx = Array.from({ length: n }, (_, i) => i);
    const m = Math.min(k, n);
    for (let i = 0; i < m; i++) {
      const j = i + this.int(n - i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx.slice(0, m).sort((a, b) => a - b);
  }
}
