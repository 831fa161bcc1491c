/**
 * The analysis child's inspect job, for the model viewer: a model's layers and details with
 * the probe checked against its input, or what a file of arrays holds. Files are read here,
 * never in the extension host.
 */
import * as path from 'node:path';
import { describeModel } from '../../core/capture/describeModel';
import type { ModelHandle, OpenModelOptions } from '../../core/capture/format';
import { openModel, openWithProbe, resolveModel } from '../../core/capture/registry';
import { describeArrays } from '../../core/dumps/describeArrays';
import { isActivationDump } from '../../core/dumps/dumpFiles';
import { loadProbe } from '../../core/probe/loadProbe';
import type { ProbeCheck } from '../../core/probe/probeCheck';
import { checkProbe } from '../../core/probe/probeCheck';
import type { ModelOutline } from './protocol';

/**
 * Opens `source` and outlines it. A format that runs the model to find its layers (PyTorch) is
 * opened with the probe, so when it opens at all, the probe fits.
 */
export async function inspectSource(
  source: string,
  probe: string | null,
  open: OpenModelOptions,
): Promise<ModelOutline> {
  if (isActivationDump(source)) {
    const isProbe = probe !== null && path.resolve(probe) === path.resolve(source);
    return { kind: 'arrays', path: source, isProbe, ...(await describeArrays(source)) };
  }
  const { format } = await resolveModel(source);
  let handle: ModelHandle;
  let probeFit: ProbeCheck | null = null;
  if (probe !== null && format.probeAtOpen) {
    const opened = await openWithProbe(source, open, () =>
      loadProbe(probe, { samples: 3, seed: 0 }),
    );
    handle = opened.handle;
    const exampleShape = opened.probe.shape.slice(1);
    probeFit = { probe, fits: true, exampleShape, fedShape: exampleShape };
  } else {
    handle = await openModel(source, open);
  }
  try {
    if (probe !== null && probeFit === null) probeFit = await checkProbe(probe, handle.inputShape);
    return {
      kind: 'model',
      path: handle.path,
      format: handle.format,
      backend: handle.backend,
      inputShape: handle.inputShape,
      layers: handle.layers,
      probeFit,
      ...(await describeModel(handle)),
    };
  } finally {
    handle.dispose();
  }
}
