/**
 * TF.js classes MemLens registers for Keras constructs TF.js lacks or defines differently (see
 * kerasStandIns.ts, which rewrites configs to use them).
 */
import type { LayerVariable, Tensor, serialization } from '@tensorflow/tfjs';
import { SCALAR_OP } from './kerasConfig';
import type { Tf } from '../tfjs/tfjsRuntime';

type Shape = (number | null)[];

/** The shape of a layer's (first) input. */
function firstShape(shape: Shape | Shape[]): Shape {
  return (Array.isArray(shape[0]) ? shape[0] : shape) as Shape;
}

/** Class name of the keepdims global pooling. */
export const KEEPDIMS_POOLING = 'MemlensGlobalPoolingKeepdims';
/** Class name of the GRU with Keras' reset_after (TF.js' GRU has only reset_after=False). */
export const GRU_RESET_AFTER = 'MemlensGRU';
/** Class name of a Bidirectional over two such GRUs (TF.js' Bidirectional wraps its own RNNs). */
export const BIDIRECTIONAL_GRU = 'MemlensBidirectionalGRU';

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
      const s = firstShape(shape);
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
      return firstShape(shape);
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
  /** The weights of one GRU. */
  interface GruWeights {
    kernel: LayerVariable;
    recurrentKernel: LayerVariable;
    bias?: LayerVariable;
  }
  /** A layer holding GRU weights, added in Keras' order: kernel, recurrent kernel, bias. */
  abstract class GruLayer<S extends { name?: string }> extends SpecLayer<S> {
    protected gruWeights(spec: GruSpec, inputDim: number, prefix: string): GruWeights {
      const u = spec.units;
      const zeros = tf.initializers.zeros();
      const add = (name: string, shape: number[]) =>
        this.addWeight(prefix + name, shape, 'float32', zeros);
      return {
        kernel: add('kernel', [inputDim, 3 * u]),
        recurrentKernel: add('recurrent_kernel', [u, 3 * u]),
        ...(spec.useBias ? { bias: add('bias', [2, 3 * u]) } : {}),
      };
    }
  }
  /**
   * Keras' GRU with reset_after=True (its default) over `x` [batch, time, features]: per step,
   * with the kernel's columns in Keras' gate order z, r, h and the bias's two rows for the input
   * and the recurrent side, z = ra(x Wz + bz + h Uz + cz), r = ra(x Wr + br + h Ur + cr),
   * h~ = a(x Wh + bh + r * (h Uh + ch)), h' = z * h + (1 - z) * h~. A step the mask
   * [batch, time] leaves out keeps the previous state, as Keras does. Returns the states in the
   * order the steps were taken (reversed time when going backwards).
   */
  /**
   * Resolves a GRU's activations while the model is being loaded, so that an unknown name is
   * refused there (one line, naming it) rather than at the first forward pass.
   */
  const checkActivations = (spec: GruSpec): void => {
    tf.layers.activation({ activation: spec.activation as 'tanh' });
    tf.layers.activation({ activation: spec.recurrentActivation as 'sigmoid' });
  };
  const gruSteps = (x: Tensor, spec: GruSpec, w: GruWeights, mask?: Tensor): Tensor[] => {
    const act = tf.layers.activation({ activation: spec.activation as 'tanh' });
    const rec = tf.layers.activation({ activation: spec.recurrentActivation as 'sigmoid' });
    const k = w.kernel.read();
    const rk = w.recurrentKernel.read();
    const [bIn, bRec] = w.bias ? tf.unstack(w.bias.read()) : [undefined, undefined];
    const steps = tf.unstack(x, 1);
    const kept = mask ? tf.unstack(tf.expandDims(tf.cast(mask, 'float32'), -1), 1) : [];
    if (spec.goBackwards) {
      steps.reverse();
      kept.reverse();
    }
    let h = tf.zeros([x.shape[0], spec.units]);
    const states: Tensor[] = [];
    for (const [t, step] of steps.entries()) {
      const xm = bIn ? tf.add(tf.matMul(step, k), bIn) : tf.matMul(step, k);
      const hm = bRec ? tf.add(tf.matMul(h, rk), bRec) : tf.matMul(h, rk);
      const [xz, xr, xh] = tf.split(xm, 3, 1);
      const [hz, hr, hh] = tf.split(hm, 3, 1);
      const z = rec.apply(tf.add(xz, hz)) as Tensor;
      const r = rec.apply(tf.add(xr, hr)) as Tensor;
      const candidate = act.apply(tf.add(xh, tf.mul(r, hh))) as Tensor;
      const next = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), candidate));
      h = mask ? tf.add(tf.mul(kept[t], next), tf.mul(tf.sub(1, kept[t]), h)) : next;
      states.push(h);
    }
    return states;
  };
  const lastDim = (shape: Shape | Shape[]): number => {
    const s = firstShape(shape);
    return s[s.length - 1] ?? 0;
  };
  const sequenceShape = (shape: Shape | Shape[], sequences: boolean, width: number): Shape => {
    const s = firstShape(shape);
    return sequences ? [s[0], s[1], width] : [s[0], width];
  };
  class MemlensGRU extends GruLayer<GruSpec> {
    static readonly className = GRU_RESET_AFTER;
    private weightsOf?: GruWeights;
    constructor(spec: GruSpec) {
      super(spec);
      checkActivations(spec);
      this.supportsMasking = true;
    }
    /** The mask goes on with the sequence; a last state has none (TF.js takes null). */
    computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | Tensor[]): Tensor {
      const m = Array.isArray(mask) ? mask[0] : mask;
      return (this.spec.returnSequences && m ? m : null) as unknown as Tensor;
    }
    build(shape: Shape | Shape[]): void {
      this.weightsOf = this.gruWeights(this.spec, lastDim(shape), '');
      this.built = true;
    }
    computeOutputShape(shape: Shape | Shape[]): Shape {
      return sequenceShape(shape, this.spec.returnSequences, this.spec.units);
    }
    call(inputs: Tensor | Tensor[], kwargs: { mask?: Tensor | Tensor[] }): Tensor {
      return tf.tidy(() => {
        const mask = Array.isArray(kwargs.mask) ? kwargs.mask[0] : kwargs.mask;
        const states = gruSteps(
          Array.isArray(inputs) ? inputs[0] : inputs,
          this.spec,
          this.weightsOf!,
          mask,
        );
        return this.spec.returnSequences ? tf.stack(states, 1) : states[states.length - 1];
      });
    }
  }
  interface BidirectionalSpec {
    name?: string;
    mergeMode: 'concat' | 'sum' | 'mul' | 'ave';
    forward: GruSpec;
    backward: GruSpec;
  }
  /**
   * Keras' Bidirectional over two reset_after GRUs: the forward states and the backward ones
   * (put back in time order, as Keras does for sequences) merged by `mergeMode`.
   */
  class MemlensBidirectionalGRU extends GruLayer<BidirectionalSpec> {
    static readonly className = BIDIRECTIONAL_GRU;
    private forwardWeights?: GruWeights;
    private backwardWeights?: GruWeights;
    constructor(spec: BidirectionalSpec) {
      super(spec);
      checkActivations(spec.forward);
      checkActivations(spec.backward);
    }
    build(shape: Shape | Shape[]): void {
      this.forwardWeights = this.gruWeights(this.spec.forward, lastDim(shape), 'forward_');
      this.backwardWeights = this.gruWeights(this.spec.backward, lastDim(shape), 'backward_');
      this.built = true;
    }
    computeOutputShape(shape: Shape | Shape[]): Shape {
      const { forward, backward, mergeMode } = this.spec;
      const width = mergeMode === 'concat' ? forward.units + backward.units : forward.units;
      return sequenceShape(shape, forward.returnSequences, width);
    }
    call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const fwd = gruSteps(x, this.spec.forward, this.forwardWeights!);
        const bwd = gruSteps(x, this.spec.backward, this.backwardWeights!);
        const sequences = this.spec.forward.returnSequences;
        const a = sequences ? tf.stack(fwd, 1) : fwd[fwd.length - 1];
        const b = sequences ? tf.stack(bwd.reverse(), 1) : bwd[bwd.length - 1];
        switch (this.spec.mergeMode) {
          case 'concat':
            return tf.concat([a, b], -1);
          case 'sum':
            return tf.add(a, b);
          case 'mul':
            return tf.mul(a, b);
          case 'ave':
            return tf.div(tf.add(a, b), 2);
        }
      });
    }
  }
  tf.serialization.registerClass(MemlensGRU);
  tf.serialization.registerClass(MemlensBidirectionalGRU);
  tf.serialization.registerClass(MemlensScalarOp);
  tf.serialization.registerClass(MemlensHardSigmoid);
  tf.serialization.registerClass(MemlensHardSilu);
  tf.serialization.registerClass(MemlensGlobalPoolingKeepdims);
}
