// The real-size conv net the layers-model, Keras and PyTorch benches capture, one per format:
// 224 x 224 x 3 inputs, five blocks of two 3x3 'same' convolutions + ReLU (the first of each
// with stride 2) of 32, 64, 128, 256 and 512 filters, global average pooling and a 10-way dense
// head (4.7M parameters), on 64 random images.
import type * as TfModule from '@tensorflow/tfjs';
import { openModel } from '../src/core/capture/registry';
import type { OpenModelOptions } from '../src/core/capture/format';
import { loadTf } from '../src/core/capture/tfjs/tfjsRuntime';
import { randomProbe } from './capture';
import { childrenPeakRss, mib, withPeakRss } from './memory';

export const REAL_CONV = { size: 224, blocks: [32, 64, 128, 256, 512], classes: 10, images: 64 };

/** The net's convolutions in order (3x3, 'same', ReLU): layer name, filters, stride. */
export function realConvConvolutions(): { name: string; filters: number; stride: number }[] {
  return REAL_CONV.blocks.flatMap((filters, b) =>
    [1, 2].map((conv) => ({
      name: `block${b + 1}_conv${conv}`,
      filters,
      stride: conv === 1 ? 2 : 1,
    })),
  );
}

/** The net's parameter count. */
export function realConvParams(): number {
  let [params, channels] = [0, 3];
  for (const { filters } of realConvConvolutions()) {
    params += 9 * channels * filters + filters;
    channels = filters;
  }
  return params + channels * REAL_CONV.classes + REAL_CONV.classes;
}

/**
 * The net as a TF.js layers-model, Glorot-initialised (TF.js draws the weights unseeded); the
 * pooling layer is `pool`, the head `logits`.
 */
export function realConvLayersModel(): TfModule.Sequential {
  const tf = loadTf();
  const { size, classes } = REAL_CONV;
  return tf.sequential({
    layers: [
      ...realConvConvolutions().map(({ name, filters, stride }, i) =>
        tf.layers.conv2d({
          ...(i === 0 ? { inputShape: [size, size, 3] } : {}),
          name,
          filters,
          kernelSize: 3,
          strides: stride,
          padding: 'same',
          activation: 'relu',
        }),
      ),
      tf.layers.globalAveragePooling2d({ name: 'pool' }),
      tf.layers.dense({ name: 'logits', units: classes }),
    ],
  });
}

/**
 * Opens `file` and captures the 64 images (NHWC, or NCHW with `channelsFirst`): the backend
 * and a line of figures with the throughput and the peak RSS of this process over open +
 * capture, and of the child the capture runs in when `child` names it.
 */
export async function benchRealConv(
  kind: string,
  file: string,
  options: OpenModelOptions & { channelsFirst?: boolean; child?: string },
): Promise<{ backend: string; figures: string }> {
  const { channelsFirst, child, ...open } = options;
  const { size, images } = REAL_CONV;
  const probe = randomProbe(4, channelsFirst ? [images, 3, size, size] : [images, size, size, 3]);
  const t0 = performance.now();
  let opened = t0;
  const { value, peak, before } = await withPeakRss(async () => {
    const handle = await openModel(file, { ...open, probe });
    opened = performance.now();
    try {
      const result = await handle.capture(probe);
      return { backend: handle.backend, neurons: result.acts.neurons, child: childrenPeakRss() };
    } finally {
      handle.dispose();
    }
  });
  const s = (performance.now() - opened) / 1000;
  const childRss = child === undefined ? '' : `${child} ${mib(value.child)} MiB, `;
  return {
    backend: value.backend,
    figures: `real-size conv ${kind} 224x224x3, ${(realConvParams() / 1e6).toFixed(2)}M params, ${REAL_CONV.blocks.length} blocks x 2 conv GAP (${value.neurons} neurons), open ${((opened - t0) / 1000).toFixed(2)} s, capture ${images} images in ${s.toFixed(2)} s (${(images / s).toFixed(1)} examples/s); peak RSS: ${childRss}this process ${mib(peak)} MiB (${mib(before)} MiB before)`,
  };
}
