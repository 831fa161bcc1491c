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
  /** Weights of the enclosing graphs (initializers, Constant outputs). */
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
  const consumers = new Map<string, OnnxNodeProto[]>();
  const producer = new Map<string, OnnxNodeProto>(outer.producer);
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
    const name = outer.prefix + nodeName(node, index);
    layers.push({
      name,
      type: op,
      outputShape: shapeOf(infos.get(ACTIVATIONS.has(op) ? out : pre)),
      shapeTensor: ACTIVATIONS.has(op) ? out : pre,
      activation,
      measuredByDefault: weighted && !head.has(node),
      preTensor: pre,
      outTensor: out,
      convLike: CONV_LIKE.test(op) || (ACTIVATIONS.has(op) && CONV_LIKE.test(source?.opType ?? '')),
      // A folded MatMul + Add is named by the Add's output too.
      aliases: [...node.output, ...(pre !== node.output[0] && weighted ? [pre] : [])]
        .filter((o) => o !== '')
        .map((o) => outer.prefix + o),
      scope: outer.scope,
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
