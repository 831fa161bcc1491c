/**
 * TF.js classes MemLens registers for Keras constructs TF.js lacks or defines differently (see
 * kerasStandIns.ts, which rewrites configs to use them).
 */
import type { LayerVariable, Tensor, serialization } from '@tensorflow/tfjs';
import { SCALAR_OP } from './kerasConfig';
import type { Tf } from './tfjsRuntime';

type Shape = (number | null)[];

/** Class name of the keepdims global pooling. */
export const KEEPDIMS_POOLING = 'MemlensGlobalPoolingKeepdims';
/** Class name of the GRU with Keras' reset_after (TF.js' GRU has only reset_after=False). */
export const GRU_RESET_AFTER = 'MemlensGRU';

let registered = false;

/** Registers the stand-in activations and layers with TF.js (once). */
export function registerStandIns(tf: Tf): void {
  if (registered) return;
  registered = true;
  const hardSigmoid = (x: Tensor): Tensor => tf.div(tf.relu6(tf.add(x, 3)), 6);
  class MemlensHardSigmoid extends tf.serialization.Serializable {
    static readonly className = 'memlensHardSigmoid';
    getClassName(): string {
      return MemlensHardSigmoid.className;
    }
    apply(x: Tensor): Tensor {
      return tf.tidy(() => hardSigmoid(x));
    }
    getConfig(): serialization.ConfigDict {
      return {};
    }
  }
  class MemlensHardSilu extends tf.serialization.Serializable {
    static readonly className = 'memlensHardSilu';
    getClassName(): string {
      return MemlensHardSilu.className;
    }
    apply(x: Tensor): Tensor {
      return tf.tidy(() => tf.mul(x, hardSigmoid(x)));
    }
    getConfig(): serialization.ConfigDict {
      return {};
    }
  }
  /** A parameter-free layer whose config is the spec it was built from. */
  abstract class SpecLayer<S extends { name?: string }> extends tf.layers.Layer {
    constructor(protected readonly spec: S) {
      super({ name: spec.name, trainable: false });
    }
    getConfig(): serialization.ConfigDict {
      return { ...super.getConfig(), ...(this.spec as unknown as serialization.ConfigDict) };
    }
  }
  interface PoolingSpec {
    name?: string;
    mode: 'mean' | 'max';
    spatialAxes: number;
    dataFormat: 'channelsLast' | 'channelsFirst';
  }
  class MemlensGlobalPoolingKeepdims extends SpecLayer<PoolingSpec> {
    static readonly className = KEEPDIMS_POOLING;
    private axes(rank: number): number[] {
      const first = this.spec.dataFormat === 'channelsFirst' ? 2 : 1;
      return Array.from({ length: rank - 2 }, (_, i) => first + i);
    }
    computeOutputShape(shape: Shape | Shape[]): Shape {
      const s = (Array.isArray(shape[0]) ? shape[0] : shape) as Shape;
      const axes = this.axes(s.length);
      return s.map((d, i) => (axes.includes(i) ? 1 : d));
    }
    call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const axes = this.axes(x.rank);
        return this.spec.mode === 'mean' ? tf.mean(x, axes, true) : tf.max(x, axes, true);
      });
    }
  }
  interface ScalarOpSpec {
    name?: string;
    op: 'add' | 'sub' | 'mul' | 'div';
    value: number;
    tensorFirst: boolean;
  }
  /** `x op value` (or `value op x`): a Keras 3 operation with a constant. */
  class MemlensScalarOp extends SpecLayer<ScalarOpSpec> {
    static readonly className = SCALAR_OP;
    computeOutputShape(shape: Shape | Shape[]): Shape {
      return (Array.isArray(shape[0]) ? shape[0] : shape) as Shape;
    }
    call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const c = tf.scalar(this.spec.value, x.dtype);
        const [a, b] = this.spec.tensorFirst ? [x, c] : [c, x];
        return tf[this.spec.op](a, b);
      });
    }
  }
  interface GruSpec {
    name?: string;
    units: number;
    activation: string;
    recurrentActivation: string;
    useBias: boolean;
    returnSequences: boolean;
    goBackwards: boolean;
  }
  /**
   * Keras' GRU with reset_after=True (its default): per step, with the kernel's columns in
   * Keras' gate order z, r, h and the bias's two rows for the input and the recurrent side,
   * z = ra(x Wz + bz + h Uz + cz), r = ra(x Wr + br + h Ur + cr),
   * h~ = a(x Wh + bh + r * (h Uh + ch)), h' = z * h + (1 - z) * h~.
   */
  class MemlensGRU extends SpecLayer<GruSpec> {
    static readonly className = GRU_RESET_AFTER;
    private kernel?: LayerVariable;
    private recurrentKernel?: LayerVariable;
    private bias?: LayerVariable;
    build(shape: Shape | Shape[]): void {
      const s = (Array.isArray(shape[0]) ? shape[0] : shape) as Shape;
      const u = this.spec.units;
      const zeros = tf.initializers.zeros();
      this.kernel = this.addWeight('kernel', [s[s.length - 1] ?? 0, 3 * u], 'float32', zeros);
      this.recurrentKernel = this.addWeight('recurrent_kernel', [u, 3 * u], 'float32', zeros);
      if (this.spec.useBias) this.bias = this.addWeight('bias', [2, 3 * u], 'float32', zeros);
      this.built = true;
    }
    computeOutputShape(shape: Shape | Shape[]): Shape {
      const s = (Array.isArray(shape[0]) ? shape[0] : shape) as Shape;
      return this.spec.returnSequences ? [s[0], s[1], this.spec.units] : [s[0], this.spec.units];
    }
    call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const act = tf.layers.activation({ activation: this.spec.activation as 'tanh' });
        const rec = tf.layers.activation({
          activation: this.spec.recurrentActivation as 'sigmoid',
        });
        const k = this.kernel!.read();
        const rk = this.recurrentKernel!.read();
        const [bIn, bRec] = this.bias ? tf.unstack(this.bias.read()) : [undefined, undefined];
        const steps = tf.unstack(x, 1);
        if (this.spec.goBackwards) steps.reverse();
        let h = tf.zeros([x.shape[0], this.spec.units]);
        const outputs: Tensor[] = [];
        for (const step of steps) {
          const xm = bIn ? tf.add(tf.matMul(step, k), bIn) : tf.matMul(step, k);
          const hm = bRec ? tf.add(tf.matMul(h, rk), bRec) : tf.matMul(h, rk);
          const [xz, xr, xh] = tf.split(xm, 3, 1);
          const [hz, hr, hh] = tf.split(hm, 3, 1);
          const z = rec.apply(tf.add(xz, hz)) as Tensor;
          const r = rec.apply(tf.add(xr, hr)) as Tensor;
          const candidate = act.apply(tf.add(xh, tf.mul(r, hh))) as Tensor;
          h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), candidate));
          outputs.push(h);
        }
        return this.spec.returnSequences ? tf.stack(outputs, 1) : h;
      });
    }
  }
  tf.serialization.registerClass(MemlensGRU);
  tf.serialization.registerClass(MemlensScalarOp);
  tf.serialization.registerClass(MemlensHardSigmoid);
  tf.serialization.registerClass(MemlensHardSilu);
  tf.serialization.registerClass(MemlensGlobalPoolingKeepdims);
}
