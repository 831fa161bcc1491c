// Memory figures shared by the bench sections: the peak RSS of this process during a run and
// of its child processes (the ONNX and PyTorch captures run in one).
import { readFileSync, readdirSync } from 'node:fs';

/** The peak resident set (VmHWM, bytes) of this process's children (Linux), else 0. */
export function childrenPeakRss(): number {
  let peak = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (Number(/PPid:\s+(\d+)/.exec(status)?.[1]) !== process.pid) continue;
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024);
    } catch {
      // A process that ended meanwhile.
    }
  }
  return peak;
}

/**
 * Runs `run` while sampling this process's RSS every 10 ms (its maxRSS is the peak of the whole
 * bench so far): the result, the peak during the run and the RSS before it, in bytes.
 */
export async function withPeakRss<T>(
  run: () => Promise<T>,
): Promise<{ value: T; peak: number; before: number }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const value = await run();
    return { value, peak: Math.max(peak, process.memoryUsage.rss()), before };
  } finally {
    clearInterval(sampler);
  }
}

/** Bytes as whole MiB. */
export const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
