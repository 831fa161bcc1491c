/** A node of a TF.js graph-model topology (GraphDef as JSON). */
export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, GraphAttr>;
  device?: string;
}

export interface GraphAttr {
  s?: string;
  f?: number;
  i?: string | number;
  type?: string;
  list?: { s?: string[]; i?: (string | number)[]; f?: number[] };
  shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean };
  [key: string]: unknown;
}

/** Graph activation ops and the activation names MemLens reports for them. */
export const ACTIVATION_OPS: Record<string, string> = {
  Relu: 'relu',
  Relu6: 'relu6',
  Elu: 'elu',
  Selu: 'selu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  LeakyRelu: 'leakyrelu',
  Softplus: 'softplus',
  Prelu: 'prelu',
};

const FUSED_OPS = new Set([
  '_FusedMatMul',
  'FusedConv2D',
  '_FusedConv2D',
  'FusedDepthwiseConv2dNative',
]);

/** Suffix of the node a fused activation is split off from. */
export const PREACTIVATION_SUFFIX = '__preactivation';

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');
const encode = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** The node name an input reference points at (`^ctrl`, `name:1` -> `name`). */
export function inputNode(ref: string): string {
  return ref.replace(/^\^/, '').replace(/:\d+$/, '');
}

/** The fused activation of a fused MatMul/Conv node, e.g. `Relu`, or null. */
export function fusedActivation(node: GraphNode): string | null {
  if (!FUSED_OPS.has(node.op)) return null;
  const ops = (node.attr?.fused_ops?.list?.s ?? []).map(decode);
  const act = ops.find((o) => o in ACTIVATION_OPS);
  return act ?? null;
}

/**
 * Splits every fused MatMul/Conv node with a fused activation into the linear node
 * `<name>__preactivation` and an activation node that keeps the original name, so the value
 * before the activation can be fetched while every other node computes the same values.
 */
export function splitFusedActivations(nodes: GraphNode[]): GraphNode[] {
  const out: GraphNode[] = [];
  for (const node of nodes) {
    const act = fusedActivation(node);
    if (act === null) {
      out.push(node);
      continue;
    }
    const attr = { ...node.attr };
    const ops = (attr.fused_ops?.list?.s ?? []).map(decode).filter((o) => o !== act);
    attr.fused_ops = { list: { s: ops.map(encode) } };
    const inputs = [...(node.input ?? [])];
    const data = inputs.filter((i) => !i.startsWith('^'));
    const control = inputs.filter((i) => i.startsWith('^'));
    let alpha: string | undefined;
    if (act === 'Prelu') {
      // The PReLU slopes are the last data input; num_args counts the extra inputs after x, w.
      alpha = data.pop();
      if (attr.num_args?.i !== undefined)
        attr.num_args = { i: String(Number(attr.num_args.i) - 1) };
    }
    const leakyAlpha = attr.leakyrelu_alpha?.f;
    delete attr.leakyrelu_alpha;
    const pre: GraphNode = {
      ...node,
      name: node.name + PREACTIVATION_SUFFIX,
      input: [...data, ...control],
      attr,
    };
    const actAttr: Record<string, GraphAttr> = { T: { type: 'DT_FLOAT' } };
    if (act === 'LeakyRelu') actAttr.alpha = { f: leakyAlpha ?? 0.2 };
    out.push(pre, {
      name: node.name,
      op: act,
      input: alpha === undefined ? [pre.name] : [pre.name, alpha],
      attr: actAttr,
      ...(node.device !== undefined ? { device: node.device } : {}),
    });
  }
  return out;
}
