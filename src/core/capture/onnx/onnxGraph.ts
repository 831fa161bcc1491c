import type { OnnxGraphProto, OnnxNodeProto, OnnxValueInfo } from './onnxProto';
import { dimSize } from './onnxProto';
import type { LayerInfo } from '../format';

/** Ops whose weights make a layer that is measured by default (MatMul when followed by Add). */
const WEIGHTED = new Set(['Gemm', 'MatMul', 'Conv', 'ConvTranspose']);
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
}

function nodeName(node: OnnxNodeProto, index: number): string {
  return node.name || node.output[0] || `${node.opType ?? 'node'}_${index}`;
}

function shapeOf(info: OnnxValueInfo | undefined): (number | null)[] {
  const dims = info?.type?.tensorType?.shape?.dim;
  if (dims === undefined) return [];
  return dims.map((d, i) => (i === 0 ? null : dimSize(d)));
}

/**
 * The layers of an ONNX graph, one per node that yields a tensor, in graph order. Weighted
 * nodes (Gemm, MatMul, Conv, ConvTranspose with an initializer operand) outside the head are
 * measured by default; a MatMul whose only consumer is an Add of an initializer reads that
 * Add's output (Linear exported as MatMul + Add). A layer whose value feeds only an
 * element-wise activation (Relu...) has that activation: `preTensor` is its own value and
 * `outTensor` the activation's output. An activation node's own pre-activation is its input.
 */
export function onnxLayers(graph: OnnxGraphProto): OnnxLayer[] {
  const weights = new Set(graph.initializer.map((t) => t.name ?? ''));
  const consumers = new Map<string, OnnxNodeProto[]>();
  const producer = new Map<string, OnnxNodeProto>();
  for (const node of graph.node) {
    if (node.opType === 'Constant') for (const o of node.output) weights.add(o);
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
    WEIGHTED.has(node.opType ?? '') && node.input.slice(1).some((i) => weights.has(i));
  /** Nodes folded into the layer before them (the bias Add of a MatMul). */
  const folded = new Set<OnnxNodeProto>();

  // The head: weighted nodes that reach a graph output through weight-free nodes only.
  const head = new Set<OnnxNodeProto>();
  const seen = new Set<string>();
  const stack = graph.output.map((o) => o.name ?? '');
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    if (seen.has(tensor)) continue;
    seen.add(tensor);
    const node = producer.get(tensor);
    if (node === undefined) continue;
    if (isWeighted(node)) {
      head.add(node);
      continue;
    }
    stack.push(...node.input.filter((i) => i !== ''));
  }

  const layers: OnnxLayer[] = [];
  graph.node.forEach((node, index) => {
    const op = node.opType ?? '';
    if (node.output.length === 0 || node.output[0] === '' || op === 'Constant') return;
    if (folded.has(node)) return;
    let pre = node.output[0];
    const weighted = isWeighted(node);
    if (op === 'MatMul' && weighted) {
      const add = soleConsumer(pre);
      if (add?.opType === 'Add' && add.input.some((i) => weights.has(i))) {
        folded.add(add);
        pre = add.output[0];
      }
    }
    let out = pre;
    let activation: string | null = null;
    if (ACTIVATIONS.has(op)) {
      activation = op.toLowerCase();
      pre = node.input[0];
    } else {
      const next = soleConsumer(pre);
      if (next !== undefined && ACTIVATIONS.has(next.opType ?? '')) {
        activation = (next.opType ?? '').toLowerCase();
        out = next.output[0];
      }
    }
    const source = producer.get(node.input[0] ?? '');
    layers.push({
      name: nodeName(node, index),
      type: op,
      outputShape: shapeOf(infos.get(ACTIVATIONS.has(op) ? out : pre)),
      shapeTensor: ACTIVATIONS.has(op) ? out : pre,
      activation,
      measuredByDefault: weighted && !head.has(node),
      preTensor: pre,
      outTensor: out,
      convLike: CONV_LIKE.test(op) || (ACTIVATIONS.has(op) && CONV_LIKE.test(source?.opType ?? '')),
      // A folded MatMul + Add is named by the Add's output too.
      aliases: [...node.output, ...(pre !== node.output[0] && weighted ? [pre] : [])].filter(
        (o) => o !== '',
      ),
    });
  });
  return layers;
}
