import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import type * as WasmModule from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../../errors';
import type { BackendName } from '../format';

export type Tf = typeof TfModule;

let tfModule: Tf | undefined;
const ready = new Map<BackendName, boolean>();

/**
 * Loads TF.js on first use (so CLI verbs that need no model start fast). When tfjs-node is
 * installed it is loaded instead: it registers the native `tensorflow` backend on the same
 * tfjs-core instance.
 */
export function loadTf(): Tf {
  if (tfModule === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    tfModule = require('@tensorflow/tfjs') as Tf;
    // PROD silences the "install tfjs-node" banner and skips debug checks.
    tfModule.env().set('PROD', true);
  }
  return tfModule;
}

const ORDER: BackendName[] = ['tfjs-node', 'wasm', 'cpu'];
const TF_NAME: Record<BackendName, string> = {
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

/**
 * @tensorflow/tfjs-node, an optional dependency (absent when its libtensorflow download
 * failed: the require throws). Unless the user set them: TensorFlow's C++ logging stays quiet,
 * and TF runs its standard kernels, not oneDNN's (whose different summation order TF itself
 * warns about on stderr at every start), so activations do not depend on the CPU's oneDNN path.
 * MEMLENS_NO_TFJS_NODE=1 makes it behave as if tfjs-node were not installed (the tests of that
 * case run where it is).
 */
export function requireTfjsNode(): unknown {
  if (process.env.MEMLENS_NO_TFJS_NODE === '1')
    throw new Error('@tensorflow/tfjs-node is disabled by MEMLENS_NO_TFJS_NODE=1');
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@tensorflow/tfjs-node');
}

async function initBackend(tf: Tf, backend: BackendName): Promise<boolean> {
  const known = ready.get(backend);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    if (backend === 'tfjs-node') {
      requireTfjsNode();
    } else if (backend === 'wasm') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof WasmModule;
      // In Node the .wasm binaries load from the package's dist folder.
      const dist = path.dirname(
        require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'),
      );
      wasm.setWasmPaths(dist + path.sep);
      // The threaded build spawns browser-style workers; Node runs the SIMD build on one thread.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    }
    ok = await tf.setBackend(TF_NAME[backend]);
  } catch {
    ok = false;
  }
  ready.set(backend, ok);
  return ok;
}

/**
 * Activates a backend: the one asked for (a UserError when it cannot start), else the first of
 * tfjs-node, wasm, cpu that starts. Returns the backend in use.
 */
export async function selectBackend(preferred?: BackendName): Promise<BackendName> {
  const tf = loadTf();
  if (preferred !== undefined) {
    if (!ORDER.includes(preferred)) {
      throw new UserError(
        `--backend: expected one of ${ORDER.join(', ')}, found '${String(preferred)}'`,
      );
    }
    if (!(await initBackend(tf, preferred))) {
      const hint = preferred === 'tfjs-node' ? ' (is @tensorflow/tfjs-node installed?)' : '';
      throw new UserError(
        `backend ${preferred}: expected it to start, found it unavailable${hint}`,
      );
    }
    return preferred;
  }
  for (const b of ORDER) if (await initBackend(tf, b)) return b;
  throw new UserError('no TF.js backend could start: expected tfjs-node, wasm or cpu');
}

/** Makes `backend` the active one again (models opened on different backends may coexist). */
export async function activateBackend(backend: BackendName): Promise<void> {
  const tf = loadTf();
  if (tf.getBackend() !== TF_NAME[backend]) await tf.setBackend(TF_NAME[backend]);
}

/** The backend names MemLens accepts for `--backend`. */
export const backendNames: readonly BackendName[] = ORDER;

/** The kernel named by a "Kernel 'X' not registered for backend 'Y'" error, or null. */
export function missingKernel(err: unknown): string | null {
  const m = /Kernel '(\w+)' not registered for backend/.exec(
    err instanceof Error ? err.message : '',
  );
  return m === null ? null : m[1];
}

/**
 * Runs `job` on `state.backend`. When that backend lacks a kernel the model needs (the wasm
 * backend has no Einsum, FFT, UnsortedSegmentSum...), the model moves to cpu for good: the
 * switch is reported through `onWarning`, `state.backend` becomes `cpu` and `job` runs again.
 */
export async function withCpuFallback<T>(
  state: { backend: BackendName; path: string },
  job: () => Promise<T>,
  onWarning?: (message: string) => void,
): Promise<T> {
  await activateBackend(state.backend);
  try {
    return await job();
  } catch (err) {
    const kernel = missingKernel(err);
    if (kernel === null || state.backend === 'cpu') throw err;
    onWarning?.(
      `${state.path}: the ${state.backend} backend has no ${kernel} kernel: running on cpu instead`,
    );
    state.backend = await selectBackend('cpu');
    await activateBackend('cpu');
    return job();
  }
}
