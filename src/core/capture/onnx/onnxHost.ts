/**
 * The ONNX child process (dist/onnxHost.js), forked by onnxSession.ts for each opened model.
 * onnxruntime-node is native code: if it crashes, only this process dies and the caller gets
 * a clean error. Requests arrive one at a time over IPC (advanced serialization). Fetched
 * outputs are reduced here (onnxOutputs.ts), so only one row per example crosses IPC.
 */
import type * as Ort from 'onnxruntime-node';
import type { HostReply, HostRequest, ReducedTensor } from './onnxProtocol';
import { isOutOfMemory, reduceFetched, runtimeErrorLine } from './onnxOutputs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;
let session: Ort.InferenceSession | undefined;

function reply(message: HostReply): void {
  process.send?.(message);
}

function errorReply(err: unknown): HostReply {
  const message = err instanceof Error ? err.message : String(err);
  return {
    kind: 'error',
    message: runtimeErrorLine(message),
    ...(isOutOfMemory(message) ? { outOfMemory: true } : {}),
  };
}

async function handle(req: HostRequest): Promise<HostReply> {
  if (req.kind === 'open') {
    // Warnings (old opsets, optimizer notes) are not errors: log level 3 = errors only.
    session = await ort.InferenceSession.create(req.model, {
      logSeverityLevel: 3,
      graphOptimizationLevel: 'all',
    });
    return { kind: 'opened', inputs: [...session.inputNames], outputs: [...session.outputNames] };
  }
  if (session === undefined) return { kind: 'error', message: 'no model is open' };
  const feeds: Record<string, Ort.Tensor> = {};
  for (const [name, t] of Object.entries(req.feeds)) {
    feeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
  }
  const results = await session.run(
    feeds,
    req.fetches.map((f) => f.name),
  );
  const outputs: Record<string, ReducedTensor> = {};
  for (const spec of req.fetches) {
    const t = results[spec.name];
    const reduced = reduceFetched(spec, t.type, t.dims, t.data as ArrayLike<number | bigint>);
    if (typeof reduced === 'string') return { kind: 'error', message: reduced };
    outputs[spec.name] = reduced;
    // Each full tensor is let go as soon as it is reduced.
    t.dispose();
  }
  return { kind: 'result', outputs, maxRss: process.resourceUsage().maxRSS * 1024 };
}

process.on('message', (req: HostRequest) => {
  handle(req).then(reply, (err: unknown) => reply(errorReply(err)));
});
process.on('disconnect', () => process.exit(0));
