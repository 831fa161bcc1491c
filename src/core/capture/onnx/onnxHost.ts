/**
 * The ONNX child process (dist/onnxHost.js), forked by onnxSession.ts for each opened model.
 * onnxruntime-node is native code: if it crashes, only this process dies and the caller gets
 * a clean error. Requests arrive one at a time over IPC (advanced serialization).
 */
import type * as Ort from 'onnxruntime-node';
import type { HostReply, HostRequest, WireTensor } from './onnxProtocol';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;
let session: Ort.InferenceSession | undefined;

function reply(message: HostReply): void {
  process.send?.(message);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
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
  const results = await session.run(feeds, req.fetches);
  const outputs: Record<string, WireTensor> = {};
  for (const name of req.fetches) {
    const t = results[name];
    outputs[name] = {
      type: t.type,
      dims: [...t.dims],
      data: t.data as WireTensor['data'],
    };
  }
  return { kind: 'result', outputs };
}

process.on('message', (req: HostRequest) => {
  handle(req).then(reply, (err: unknown) => reply({ kind: 'error', message: firstLine(err) }));
});
process.on('disconnect', () => process.exit(0));
