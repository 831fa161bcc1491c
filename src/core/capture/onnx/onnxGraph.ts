import type { OnnxGraphProto, OnnxNodeProto, OnnxValueInfo } from './onnxProto';
import { dimSize, int64 } from './onnxProto';
import type { LayerInfo } from '../format';

/** A node that may follow a weighted one and be read as part of its layer. */
interface Step {
  op: string;
  required: boolean;
}

/**
 * What dynamic quantization (onnxruntime's quantize_dynamic) puts after a ConvInteger or
 * MatMulInteger to get the float value back: the Add of an integer bias (older exporters),
 * the Cast to float, the Mul by the input and weight scales, the Add of the float bias.
 */
const DEQUANTIZED: Step[] = [
  { op: 'Add', required: false },
  { op: 'Cast', required: true },
  { op: 'Mul', required: true },
  { op: 'Add', required: false },
];

/**
 * Ops whose weights make a layer that is measured by default: the inputs that hold the
 * weights, and the nodes after it that the layer reads through (a MatMul's bias Add; the
 * dequantizing chain of an integer op; the DequantizeLinear after a QLinear op, or, without
 * one, its output dequantized by the capture).
 */
const WEIGHTED = new Map<string, { weights: number[]; then: Step[] }>(
  Object.entries({
    Gemm: { weights: [1, 2], then: [] },
    MatMul: { weights: [1], then: [{ op: 'Add', required: false }] },
    Conv: { weights: [1, 2], then: [] },
    ConvTranspose: { weights: [1, 2], then: [] },
    // Inputs x, w, x_zero_point, w_zero_point.
    ConvInteger: { weights: [1], then: DEQUANTIZED },
    MatMulInteger: { weights: [1], then: DEQUANTIZED },
    // Inputs x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, bias.
    QLinearConv: { weights: [3], then: [{ op: 'DequantizeLinear', required: false }] },
    QLinearMatMul: { weights: [3], then: [{ op: 'DequantizeLinear', required: false }] },
  }),
);
/** Quantized ops, named after the float op they replace. */
const QUANTIZED = /Integer$|^QLinear/;
/** ONNX float element types (float, float16, double, bfloat16): a Cast to one dequantizes. */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);
/** Element-wise activations: their input is the pre-activation of the layer before them. */
const ACTIVATIONS = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'Tanh',
  'Elu',
  'Selu',
  'Gelu',
  'Softplus',
  'Softsign',
  'HardSigmoid',
  'HardSwish',
  'Clip',
  'Mish',
]);
const CONV_LIKE = /Conv|Pool|BatchNormalization|InstanceNormalization|Resize|Upsample/;

/**
 * One step into a subgraph: the node (by index in its graph) holding it and the graph
 * attribute (`then_branch`, `else_branch` of an If; `body` of a Loop).
 */
export interface OnnxScopeStep {
  node: number;
  attr: string;
  op: 'If' | 'Loop';
}

/** The subgraphs the capture descends into, and the short names their paths use. */
const SUBGRAPH_ATTRS: Record<string, Record<string, string>> = {
  If: { then_branch: 'then', else_branch: 'else' },
  Loop: { body: 'body' },
};

/** One capturable ONNX layer and the tensors its two capture points read. */
export interface OnnxLayer extends LayerInfo {
  /** The tensor before the activation (the node output, or the bias Add after a MatMul). */
  preTensor: string;
  /** The tensor after the activation, or preTensor when the layer has none. */
  outTensor: string;
  /** Feature maps with channels on axis 1 (NCHW), reduced by global average pooling. */
  convLike: boolean;
  /** Output tensor names that also name this layer. */
  aliases: string[];
  /** The tensor whose shape is the layer's output shape. */
  shapeTensor: string;
  /** The subgraphs the layer lives in, outermost first (empty: the main graph). */
  scope: OnnxScopeStep[];
  /**
   * A quantized output read as (q - zeroPoint) * scale (the y_scale and y_zero_point of a
   * QLinear op that no DequantizeLinear follows); undefined for a float one.
   */
  dequantize?: OnnxDequantize;
}

/** The tensors that turn a quantized tensor into floats, as DequantizeLinear takes them. */
export interface OnnxDequantize {
  scale: string;
  zeroPoint: string;
}

function nodeName(node: OnnxNodeProto, index: number): string {
  return node.name || node.output[0] || `${node.opType ?? 'node'}_${index}`;
}

/**
 * A layer's name: a quantized node's is the float node's it replaced, as onnxruntime's
 * quantization names them (`/conv/Conv` for `/conv/Conv_quant`; an unnamed node's output
 * `y_output_quantized` or `y_quantized` for `y`, the float node's output).
 */
function layerName(node: OnnxNodeProto, index: number): string {
  const name = nodeName(node, index);
  if (!QUANTIZED.test(node.opType ?? '')) return name;
  return node.name ? name.replace(/_quant$/, '') : name.replace(/(_output)?_quantized$/, '');
}

function shapeOf(info: OnnxValueInfo | undefined): (number | null)[] {
  const dims = info?.type?.tensorType?.shape?.dim;
  if (dims === undefined) return [];
  return dims.map((d, i) => (i === 0 ? null : dimSize(d)));
}

/**
 * The layers of an ONNX graph, one per node that yields a tensor computed from the input (not
 * from weights alone, nor a quantization scale only), in graph order. Weighted nodes (Gemm,
 * MatMul, Conv, ConvTranspose and their quantized forms, with a weight operand: an
 * initializer, a Constant, or a value computed from those alone) outside the head are
 * measured by default; a MatMul whose only consumer is an Add of a weight reads that Add's
 * output (Linear exported as MatMul + Add). A ConvInteger or MatMulInteger reads the float
 * value its dequantizing chain gives (Cast, Mul by the scales, Add of the bias), and is not
 * measured without one; a QLinearConv or QLinearMatMul reads the DequantizeLinear after it,
 * or its own output dequantized. A layer whose value feeds only an element-wise activation
 * (Relu...) has that activation: `preTensor` is its own value and `outTensor` the
 * activation's output. An activation node's own pre-activation is its input.
 */
export function onnxLayers(graph: OnnxGraphProto): OnnxLayer[] {
  return graphLayers(
    graph,
    { prefix: '', scope: [], weights: new Set(), producer: new Map() },
    true,
  );
}

/** What a subgraph sees of the graphs around it. */
interface Outer {
  /** Layer name prefix: `If_0/then/`. */
  prefix: string;
  scope: OnnxScopeStep[];
  /** Weights of the enclosing graphs (initializers, Constant outputs, values of those only). */
  weights: ReadonlySet<string>;
  producer: ReadonlyMap<string, OnnxNodeProto>;
}

/**
 * The layers of one graph, each If or Loop followed by the layers of its subgraphs (names
 * prefixed with the node's path). `headed`: the graph's outputs are the model's head (the
 * main graph, or a subgraph whose node reaches the outputs through weight-free nodes).
 */
function graphLayers(graph: OnnxGraphProto, outer: Outer, headed: boolean): OnnxLayer[] {
  const weights = new Set([...outer.weights, ...graph.initializer.map((t) => t.name ?? '')]);
  /** Scales and zero points DynamicQuantizeLinear computes, and values computed from them. */
  const quantParams = new Set<string>();
  const consumers = new Map<string, OnnxNodeProto[]>();
  const producer = new Map<string, OnnxNodeProto>(outer.producer);
  // Nodes come in topological order: a node's inputs are known before it.
  for (const node of graph.node) {
    const op = node.opType ?? '';
    const inputs = node.input.filter((i) => i !== '');
    const computed = inputs.length > 0 && SUBGRAPH_ATTRS[op] === undefined;
    if (op === 'Constant' || (computed && inputs.every((i) => weights.has(i))))
      for (const o of node.output) weights.add(o);
    else if (op === 'DynamicQuantizeLinear')
      for (const o of node.output.slice(1)) quantParams.add(o);
    else if (computed && inputs.every((i) => weights.has(i) || quantParams.has(i)))
      for (const o of node.output) quantParams.add(o);
    for (const i of node.input) {
      if (i === '') continue;
      const list = consumers.get(i) ?? [];
      list.push(node);
      consumers.set(i, list);
    }
    for (const o of node.output) producer.set(o, node);
  }
  const infos = new Map<string, OnnxValueInfo>();
  for (const v of [...graph.valueInfo, ...graph.output]) infos.set(v.name ?? '', v);
  const soleConsumer = (tensor: string): OnnxNodeProto | undefined => {
    const list = consumers.get(tensor) ?? [];
    const isOutput = graph.output.some((o) => o.name === tensor);
    return list.length === 1 && !isOutput ? list[0] : undefined;
  };
  const isWeighted = (node: OnnxNodeProto): boolean =>
    (WEIGHTED.get(node.opType ?? '')?.weights ?? []).some((i) => weights.has(node.input[i] ?? ''));
  /**
   * The nodes of `steps` that follow `tensor`, each the sole consumer of the one before and
   * otherwise fed weights or quantization parameters only; undefined when a required one is
   * missing.
   */
  const follow = (tensor: string, steps: readonly Step[]): OnnxNodeProto[] | undefined => {
    const chain: OnnxNodeProto[] = [];
    let end = tensor;
    for (const step of steps) {
      const next = soleConsumer(end);
      const fits =
        next?.opType === step.op &&
        next.input.every((i) => i === end || weights.has(i) || quantParams.has(i)) &&
        (step.op !== 'Cast' ||
          FLOAT_TYPES.has(int64(next.attribute.find((a) => a.name === 'to')?.i)));
      if (fits) {
        chain.push(next);
        end = next.output[0];
      } else if (step.required) return undefined;
    }
    return chain;
  };
  /** Nodes folded into the layer before them (the bias Add of a MatMul, a dequantizing chain). */
  const folded = new Set<OnnxNodeProto>();

  // The head: weighted nodes that reach a graph output through weight-free nodes only.
  const head = new Set<OnnxNodeProto>();
  /** Weight-free nodes on the way from the outputs to the head. */
  const reached = new Set<OnnxNodeProto>();
  const seen = new Set<string>();
  const stack = headed ? graph.output.map((o) => o.name ?? '') : [];
  const own = new Set(graph.node);
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    if (seen.has(tensor)) continue;
    seen.add(tensor);
    const node = producer.get(tensor);
    if (node === undefined || !own.has(node)) continue;
    if (isWeighted(node)) {
      head.add(node);
      continue;
    }
    reached.add(node);
    // Not back through quantization scales: they are not the way the data comes.
    stack.push(...node.input.filter((i) => i !== '' && !quantParams.has(i)));
  }

  const layers: OnnxLayer[] = [];
  graph.node.forEach((node, index) => {
    const op = node.opType ?? '';
    if (node.output.length === 0 || node.output[0] === '' || folded.has(node)) return;
    // Values the input does not reach, or reaches only through quantization scales.
    if (node.output.every((o) => weights.has(o) || quantParams.has(o))) return;
    let pre = node.output[0];
    const weighted = isWeighted(node);
    const chain = weighted ? follow(pre, WEIGHTED.get(op)!.then) : [];
    for (const n of chain ?? []) {
      folded.add(n);
      pre = n.output[0];
    }
    // A QLinear op's output that no DequantizeLinear reads: the capture dequantizes it.
    const dequantize: OnnxDequantize | undefined =
      op.startsWith('QLinear') && chain?.length === 0
        ? { scale: node.input[6] ?? '', zeroPoint: node.input[7] ?? '' }
        : undefined;
    let out = pre;
    let activation: string | null = null;
    if (ACTIVATIONS.has(op)) {
      activation = op.toLowerCase();
      pre = node.input[0];
    } else if (dequantize === undefined) {
      const next = soleConsumer(pre);
      if (next !== undefined && ACTIVATIONS.has(next.opType ?? '')) {
        activation = (next.opType ?? '').toLowerCase();
        out = next.output[0];
      }
    }
    const source = producer.get(node.input[0] ?? '');
    const name = outer.prefix + layerName(node, index);
    layers.push({
      name,
      type: op,
      outputShape: shapeOf(infos.get(ACTIVATIONS.has(op) ? out : pre)),
      shapeTensor: ACTIVATIONS.has(op) ? out : pre,
      activation,
      // An integer op without its dequantizing chain gives integers in no known scale.
      measuredByDefault: weighted && chain !== undefined && !head.has(node),
      preTensor: pre,
      outTensor: out,
      convLike: CONV_LIKE.test(op) || (ACTIVATIONS.has(op) && CONV_LIKE.test(source?.opType ?? '')),
      // A layer read through folded nodes is named by the last one's output too; a
      // quantized one by its node's own name.
      aliases: [
        ...node.output,
        ...(pre !== node.output[0] && weighted ? [pre] : []),
        ...(node.name && outer.prefix + node.name !== name ? [node.name] : []),
      ]
        .filter((o) => o !== '')
        .map((o) => outer.prefix + o),
      scope: outer.scope,
      ...(dequantize === undefined ? {} : { dequantize }),
    });
    const attrs = SUBGRAPH_ATTRS[op];
    if (attrs === undefined) return;
    for (const a of node.attribute) {
      const short = attrs[a.name ?? ''];
      if (short === undefined || !a.g) continue;
      layers.push(
        ...graphLayers(
          a.g,
          {
            prefix: `${name}/${short}/`,
            scope: [...outer.scope, { node: index, attr: a.name ?? '', op: op as 'If' | 'Loop' }],
            weights,
            producer,
          },
          reached.has(node),
        ),
      );
    }
  });
  return layers;
}
