/**
 * The axis order of a graph-model's 4-D tensors, read from the graph: the `data_format` of
 * conv, pooling and normalisation nodes (TF's default NHWC where it is absent), the Transposes
 * an ONNX-to-TF conversion wraps around them (perm [0, 2, 3, 1] from NCHW to NHWC, [0, 3, 1, 2]
 * back), the input's shape ([?, 3, H, W] is channels-first), and, for every other node, the
 * layout its data inputs agree on. Without evidence, or with inputs that disagree, a node's
 * layout is unknown (null): a conv map is then not averaged over the wrong axes.
 */
import type { GraphNode } from './graphRewrite';
import { inputNode } from './graphRewrite';

export type Layout = 'NHWC' | 'NCHW';

/** Ops that take the layout of their `data_format` attribute, NHWC when it is absent. */
const FORMAT_OPS =
  /^(_?Fused)?(Conv2D|Conv2DBackpropInput|DepthwiseConv2dNative|MaxPool|AvgPool|FusedBatchNorm(V2|V3)?|BiasAdd)$|^_FusedConv2D$|^FusedDepthwiseConv2dNative$/;
/** Ops whose output order is not their input's. */
const RESHAPING_OPS = new Set([
  'Reshape',
  'Squeeze',
  'ExpandDims',
  'Pack',
  'Unpack',
  'SpaceToDepth',
  'DepthToSpace',
  'Einsum',
  'MatMul',
  'BatchMatMul',
  'BatchMatMulV2',
  '_FusedMatMul',
]);
const NO_DATA = new Set(['Const', 'NoOp']);

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

/** The layout an input's shape shows: 1, 3 or 4 channels on axis 1 and not last, or the reverse. */
function inputLayout(dims: readonly (number | null)[]): Layout | null {
  if (dims.length !== 4) return null;
  const isChannels = (d: number | null): boolean => d === 1 || d === 3 || d === 4;
  if (isChannels(dims[1]) && !isChannels(dims[3])) return 'NCHW';
  if (isChannels(dims[3]) && !isChannels(dims[1])) return 'NHWC';
  return null;
}

/** What a 4-D Transpose makes of a layout. */
function transposed(from: Layout | null, perm: readonly number[] | undefined): Layout | null {
  const p = perm?.join(',');
  if (p === '0,1,2,3') return from;
  if (from === 'NCHW' && p === '0,2,3,1') return 'NHWC';
  if (from === 'NHWC' && p === '0,3,1,2') return 'NCHW';
  return null;
}

/**
 * The layout of every node's output (null: unknown). `inputShape` gives a Placeholder's shape,
 * `constValues` a Const node's values (a Transpose's perm).
 */
export function inferLayouts(
  nodes: readonly GraphNode[],
  inputShape: (name: string) => readonly (number | null)[] | undefined,
  constValues: (name: string) => readonly number[] | undefined,
): Map<string, Layout | null> {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const layouts = new Map<string, Layout | null>();
  const dataInputs = (n: GraphNode): string[] =>
    (n.input ?? [])
      .filter((r) => !r.startsWith('^'))
      .map(inputNode)
      .filter((name) => !NO_DATA.has(byName.get(name)?.op ?? 'Const'));
  // Iteratively (graphs run thousands of nodes deep), inputs before the node.
  const layoutOf = (start: GraphNode): Layout | null => {
    const stack: GraphNode[] = [start];
    const onStack = new Set<string>([start.name]);
    while (stack.length > 0) {
      const n = stack[stack.length - 1];
      const pending = dataInputs(n).filter(
        (name) => !layouts.has(name) && !onStack.has(name) && byName.has(name),
      );
      if (pending.length > 0) {
        for (const name of pending) {
          stack.push(byName.get(name)!);
          onStack.add(name);
        }
        continue;
      }
      stack.pop();
      onStack.delete(n.name);
      layouts.set(n.name, ownLayout(n));
    }
    return layouts.get(start.name) ?? null;
  };
  const ownLayout = (n: GraphNode): Layout | null => {
    if (n.op === 'Placeholder' || n.op === 'PlaceholderWithDefault')
      return inputLayout(inputShape(n.name) ?? []);
    if (FORMAT_OPS.test(n.op)) {
      const format = n.attr?.data_format?.s;
      return format !== undefined && decode(format).startsWith('NC') ? 'NCHW' : 'NHWC';
    }
    if (RESHAPING_OPS.has(n.op)) return null;
    const inputs = dataInputs(n).map((name) => layouts.get(name) ?? null);
    if (n.op === 'Transpose') {
      const perm = n.input?.[1] === undefined ? undefined : constValues(inputNode(n.input[1]));
      return transposed(inputs[0] ?? null, perm);
    }
    const known = new Set(inputs.filter((l) => l !== null));
    // An input of unknown layout (a bias, a broadcast scalar) does not veto the others.
    return known.size === 1 ? [...known][0] : null;
  };
  for (const n of nodes) if (!layouts.has(n.name)) layoutOf(n);
  return layouts;
}
