/**
 * Makes the tensors a capture reads outputs of the main graph, so that the runtime returns
 * them, including tensors inside If branches and Loop bodies. Only the tensors asked for
 * become outputs: every graph output is kept whole by the runtime until the end of a run
 * (so the shape pass exposes each tensor's Shape, not the tensor).
 */
import { UserError } from '../../errors';
import type { OnnxDequantize, OnnxScopeStep } from './onnxGraph';
import type { OnnxGraphProto, OnnxModelProto, OnnxNodeProto, OnnxValueInfo } from './onnxProto';

/** A tensor of some graph of the model: its name there and the subgraphs leading to it. */
export interface ScopedTensor {
  tensor: string;
  scope: OnnxScopeStep[];
  /** A quantized tensor, read through a DequantizeLinear added where it is made. */
  dequantize?: OnnxDequantize;
}

/** Where the runtime gives a scoped tensor: a main-graph output, with loop axes in front. */
export interface ExposedTensor {
  output: string;
  /** Loop iteration axes stacked before the batch axis (one per Loop on the way). */
  stacked: number;
}

/** The key of a scoped tensor (the same tensor read twice is exposed once). */
export function scopedKey(t: ScopedTensor): string {
  return `${t.scope.map((s) => `${s.node}.${s.attr}`).join('/')}|${t.tensor}`;
}

const FLOAT = 1;

function floatOutput(name: string): OnnxValueInfo {
  return { name, type: { tensorType: { elemType: FLOAT } } };
}

function allNames(graph: OnnxGraphProto, into: Set<string>): void {
  for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) into.add(v.name ?? '');
  for (const t of graph.initializer) into.add(t.name ?? '');
  for (const n of graph.node) {
    for (const o of n.output) into.add(o);
    for (const a of n.attribute) {
      if (a.g) allNames(a.g, into);
      for (const g of a.graphs ?? []) allNames(g, into);
    }
  }
}

function subgraph(parent: OnnxGraphProto, step: OnnxScopeStep, file: string): OnnxGraphProto {
  const node = parent.node[step.node];
  const g = node?.attribute.find((a) => a.name === step.attr)?.g;
  if (node === undefined || node.opType !== step.op || g === undefined)
    throw new UserError(`${file}: expected an ${step.op} node with a ${step.attr} subgraph`);
  return g;
}

/**
 * Edits `model` (a copy the caller owns) so every tensor of `tensors` (its `shapes` instead:
 * a Shape node's output) is a main-graph output: a main-graph tensor is added as it is (or
 * dequantized); a subgraph tensor is cast to float32 where it is made and passed out through
 * each If (the other branch gives an empty float tensor, so a branch not taken reads as no
 * values) and each Loop (as a scan output: iterations stacked first).
 */
export function exposeTensors(
  model: OnnxModelProto,
  tensors: ScopedTensor[],
  file: string,
  read: 'values' | 'shapes' = 'values',
): Map<string, ExposedTensor> {
  const main = model.graph!;
  const names = new Set<string>();
  allNames(main, names);
  const fresh = (base: string): string => {
    let name = `${base}__memlens`;
    for (let i = 1; names.has(name); i++) name = `${base}__memlens${i}`;
    names.add(name);
    return name;
  };
  const inputs = new Set(main.input.map((v) => v.name ?? ''));
  const outputs = new Set(main.output.map((v) => v.name ?? ''));
  const exposed = new Map<string, ExposedTensor>();
  for (const t of tensors) {
    const key = scopedKey(t);
    if (exposed.has(key)) continue;
    // The graphs on the way in: graphs[i] holds the node of step i.
    const graphs: OnnxGraphProto[] = [main];
    for (const step of t.scope) graphs.push(subgraph(graphs[graphs.length - 1], step, file));
    const inner = graphs[graphs.length - 1];
    // What leaves the graph the tensor is made in.
    let value = t.tensor;
    const add = (opType: string, input: string[], suffix: string): void => {
      const output = fresh(`${t.tensor}_${suffix}`);
      inner.node.push({ name: output, opType, input, output: [output], attribute: [] });
      value = output;
    };
    if (read === 'shapes') add('Shape', [value], 'shape');
    else if (t.dequantize !== undefined)
      add('DequantizeLinear', [value, t.dequantize.scale, t.dequantize.zeroPoint], 'dequantized');
    if (t.scope.length === 0) {
      if (!outputs.has(value) && !inputs.has(value)) {
        main.output.push({ name: value });
        outputs.add(value);
      }
      exposed.set(key, { output: value, stacked: 0 });
      continue;
    }
    const cast = fresh(value);
    inner.node.push(castToFloat(value, cast));
    value = cast;
    let stacked = 0;
    for (let i = t.scope.length - 1; i >= 0; i--) {
      const step = t.scope[i];
      const node: OnnxNodeProto = graphs[i].node[step.node];
      const body = graphs[i + 1];
      body.output.push(floatOutput(value));
      if (step.op === 'If') {
        const other = node.attribute.find(
          (a) => a.g !== undefined && a.g !== null && a.g !== body && a.name !== step.attr,
        )?.g;
        if (other === undefined)
          throw new UserError(`${file}: expected an If node with two branches`);
        const empty = fresh(`${value}_none`);
        other.node.push(emptyFloat(empty));
        other.output.push(floatOutput(empty));
      } else stacked++;
      value = fresh(value);
      node.output.push(value);
    }
    main.output.push(floatOutput(value));
    exposed.set(key, { output: value, stacked });
  }
  return exposed;
}

function castToFloat(input: string, output: string): OnnxNodeProto {
  return {
    name: output,
    opType: 'Cast',
    input: [input],
    output: [output],
    attribute: [{ name: 'to', type: 2, i: FLOAT }],
  };
}

/** A Constant float tensor of shape [0]: the value of a branch not taken. */
function emptyFloat(output: string): OnnxNodeProto {
  return {
    name: output,
    opType: 'Constant',
    input: [],
    output: [output],
    attribute: [
      {
        name: 'value',
        type: 4,
        t: {
          name: output,
          dims: [0],
          dataType: FLOAT,
          rawData: new Uint8Array(0),
          externalData: [],
        },
      },
    ],
  };
}
