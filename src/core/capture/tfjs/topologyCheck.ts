/**
 * Checks a layers-model topology (a TF.js model.json `modelTopology`, a Keras model config)
 * before any of it reaches tfjs-layers. `Container.fromConfig` rebuilds a functional model by
 * re-queueing every layer call whose input tensors do not exist yet until they do: a call that
 * can never run (it reads a layer the model lacks, a call that layer never makes, a name that
 * is not a string, itself through a cycle) makes it loop forever. So every model in the
 * topology (the top one, nested ones, ones inside wrappers) must have:
 * - layer entries with a string class_name and a config object, and unique string names;
 * - inbound nodes, in the Keras 2 form `[[layer, node, tensor, kwargs?], ...]` or the Keras 3
 *   form `{args, kwargs}` with `__keras_tensor__` histories, that name layers of the model and
 *   calls those layers make;
 * - input_layers and output_layers that do the same;
 * - no cycle among the layer calls;
 * and the whole topology at most {@link TOPOLOGY_LIMITS} layers, calls and references, nested at
 * most that deep. Anything else is a one-line UserError naming the file and the layer.
 *
 * tfjs-layers reads these keys after converting them to camelCase (`inbound__nodes` and
 * `inboundNodes` both become `inboundNodes`, and `Sequential_` names the Sequential class), so
 * the keys it relies on must be spelled as Keras writes them and a model class as TF.js
 * names it: the check then sees what TF.js will read.
 */
import { UserError } from '../../errors';

type Json = Record<string, unknown>;

export const TOPOLOGY_LIMITS = {
  /** Layer entries, over every model of the topology. */
  layers: 10_000,
  /** Layer calls (inbound nodes), over every model. */
  calls: 50_000,
  /** Tensor references in those calls and in the models' input and output lists. */
  refs: 200_000,
  /** Nesting of JSON objects and arrays. */
  depth: 100,
  /** Passes over a model's layer list times its layers, see Checker.passes (about a second). */
  rebuildWork: 2_000_000,
};

/** Classes tfjs-layers rebuilds as models: a layer list, a call graph (not Sequential). */
const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/** The keys TF.js reads for the structure, as Keras spells them, by their camelCase. */
const STRUCTURAL_KEYS = new Map([
  ['className', 'class_name'],
  ['config', 'config'],
  ['name', 'name'],
  ['layers', 'layers'],
  ['inboundNodes', 'inbound_nodes'],
  ['inputLayers', 'input_layers'],
  ['outputLayers', 'output_layers'],
  ['kerasHistory', 'keras_history'],
]);

/** tfjs-layers' generic_utils.toCamelCase, which its config conversion applies to keys. */
function camelCase(id: string): string {
  if (id.length <= 1 || !id.includes('_')) return id;
  return id.replace(/[_]+(\w|$)/g, (_m, c: string) => c.toUpperCase());
}

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** At most 40 printable characters of a name from the file. */
function quote(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, '?');
  return `'${clean.length > 40 ? `${clean.slice(0, 37)}...` : clean}'`;
}

/** A short description of a value from the file: `5`, `null`, `'name'`, `[5, 0, 0]`, `an object`. */
function show(v: unknown, budget = 40): string {
  if (typeof v === 'string') return quote(v);
  if (v === null || typeof v !== 'object') return String(v);
  if (!Array.isArray(v)) return 'an object';
  const parts: string[] = [];
  let used = 2;
  for (const x of v) {
    const s = Array.isArray(x) ? (x.length === 0 ? '[]' : '[...]') : show(x, 20);
    used += s.length + 2;
    if (used > budget) {
      parts.push('...');
      break;
    }
    parts.push(s);
  }
  return `[${parts.join(', ')}]`;
}

const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** One tensor a call reads: the layer, its call (node) and the tensor of that call. */
interface Ref {
  layer: string;
  node: number;
  tensor: number;
}

interface Layer {
  name: string;
  className: string;
  /** Each call: the tensors it reads (its args; kwargs tensors are in `alsoReads`). */
  calls: Ref[][];
  alsoReads: Ref[];
  /** Calls the layer has before any listed one: 1 for an input layer or a model, else 0. */
  ownCalls: number;
}

class Checker {
  private layerCount = 0;
  private callCount = 0;
  private refCount = 0;

  constructor(private readonly file: string) {}

  fail(message: string): never {
    throw new UserError(`${this.file}: ${message}`);
  }

  private count(what: 'layers' | 'calls' | 'refs', n = 1): void {
    const total =
      what === 'layers'
        ? (this.layerCount += n)
        : what === 'calls'
          ? (this.callCount += n)
          : (this.refCount += n);
    if (total > TOPOLOGY_LIMITS[what]) {
      const noun = { layers: 'layers', calls: 'layer calls', refs: 'tensor references' }[what];
      this.fail(
        `expected a layers-model of at most ${TOPOLOGY_LIMITS[what]} ${noun}, found more (damaged or crafted?)`,
      );
    }
  }

  /**
   * Walks every object and array (without recursion, so no nesting overflows the stack):
   * checks the depth, the spelling of the structural keys and every class_name; then checks
   * each model found.
   */
  walk(root: unknown): void {
    const models: Json[] = [];
    const stack: [unknown, number][] = [[root, 1]];
    while (stack.length > 0) {
      const [v, depth] = stack.pop()!;
      if (typeof v !== 'object' || v === null) continue;
      if (depth > TOPOLOGY_LIMITS.depth) {
        this.fail(
          `expected a model topology nested at most ${TOPOLOGY_LIMITS.depth} levels deep, found deeper nesting`,
        );
      }
      if (Array.isArray(v)) {
        for (const x of v) stack.push([x, depth + 1]);
        continue;
      }
      for (const key of Object.keys(v)) {
        const spelled = STRUCTURAL_KEYS.get(camelCase(key));
        if (spelled !== undefined && spelled !== key)
          this.fail(
            `expected the key '${spelled}', found ${quote(key)} (read by TF.js as the same)`,
          );
      }
      if ('class_name' in v) {
        const cls = (v as Json).class_name;
        if (typeof cls !== 'string')
          this.fail(
            `expected every class_name to be a string, found ${show(cls)}${this.where(v as Json)}`,
          );
        const camel = camelCase(cls);
        if (MODEL_CLASSES.has(camel)) {
          if (camel !== cls) this.fail(`expected the model class '${camel}', found ${quote(cls)}`);
          models.push(v as Json);
        }
      }
      for (const x of Object.values(v)) stack.push([x, depth + 1]);
    }
    for (const model of models) this.model(model);
  }

  /** ` (layer 'x')` for an entry with a name, for messages. */
  private where(entry: Json): string {
    const config = entry.config;
    const name = isObject(config) && typeof config.name === 'string' ? config.name : entry.name;
    return typeof name === 'string' ? ` (layer ${quote(name)})` : '';
  }

  private modelLabel(model: Json): string {
    const config = model.config;
    const name = isObject(config) ? config.name : undefined;
    return typeof name === 'string' ? `model ${quote(name)}` : 'the model';
  }

  /** A model object: its layer list, and for a functional model its call graph. */
  model(model: Json): void {
    const label = this.modelLabel(model);
    const config = model.config;
    if (model.class_name === 'Sequential') {
      // Legacy Sequential configs are the layer list itself.
      const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
      if (!Array.isArray(layers))
        this.fail(`${label} (Sequential): expected a list of layers, found ${show(layers)}`);
      const names = new Set<string>();
      layers.forEach((entry, i) => {
        const { name } = this.entry(label, entry, i, false);
        if (name === undefined) return;
        if (names.has(name))
          this.fail(`${label}: expected unique layer names, found ${quote(name)} twice`);
        names.add(name);
      });
      return;
    }
    if (!isObject(config) || !Array.isArray(config.layers))
      this.fail(
        `${label} (${model.class_name as string}): expected a config with a list of layers`,
      );
    const layers = new Map<string, Layer>();
    config.layers.forEach((raw, i) => {
      const { name, className } = this.entry(label, raw, i, true);
      const entry = raw as Json;
      if (name === undefined) return; // unreachable: functional entries need names
      if (layers.has(name))
        this.fail(`${label}: expected unique layer names, found ${quote(name)} twice`);
      const layer: Layer = {
        name,
        className,
        calls: [],
        alsoReads: [],
        ownCalls: className === 'InputLayer' || MODEL_CLASSES.has(className) ? 1 : 0,
      };
      const nodes = entry.inbound_nodes;
      if (!Array.isArray(nodes))
        this.fail(
          `layer ${quote(name)}: expected inbound_nodes, a list of calls, found ${show(nodes)}`,
        );
      if (className === 'InputLayer' && nodes.some((n) => !Array.isArray(n) || n.length > 0))
        this.fail(`InputLayer ${quote(name)}: expected no inbound nodes, found ${nodes.length}`);
      this.count('calls', nodes.length);
      nodes.forEach((node, j) => {
        if (className === 'InputLayer') return;
        const at = `layer ${quote(name)} inbound node ${j}`;
        const { args, kwargs } = this.node(at, node);
        if (args.length === 0) this.fail(`${at}: expected at least one input tensor, found none`);
        layer.calls.push(args);
        layer.alsoReads.push(...kwargs);
      });
      layers.set(name, layer);
    });
    this.graph(label, config, layers);
  }

  /** A layer entry: class_name, config, and (functional models) its name. */
  private entry(
    label: string,
    entry: unknown,
    i: number,
    functional: boolean,
  ): { name: string | undefined; className: string } {
    if (!isObject(entry))
      this.fail(
        `${label} layer ${i}: expected an object with class_name and config, found ${show(entry)}`,
      );
    const cls = entry.class_name;
    if (typeof cls !== 'string')
      this.fail(`${label} layer ${i}: expected a string class_name, found ${show(cls)}`);
    const className = camelCase(cls);
    const config = entry.config;
    // A legacy Sequential nested in a model keeps its layers as its config.
    if (!isObject(config) && !(className === 'Sequential' && Array.isArray(config)))
      this.fail(
        `${label} layer ${i} (${quote(cls)}): expected a config object, found ${show(config)}`,
      );
    const configName = isObject(config) ? config.name : undefined;
    if (configName !== undefined && typeof configName !== 'string')
      this.fail(
        `${label} layer ${i} (${quote(cls)}): expected a string name, found ${show(configName)}`,
      );
    this.count('layers');
    if (!functional) return { name: configName, className };
    // tfjs-layers finds a layer's calls by the entry's name and queues them under the layer's
    // own (config) name: the two must be one string, or a call is queued where none looks.
    const name = entry.name;
    if (typeof name !== 'string')
      this.fail(`${label} layer ${i} (${quote(cls)}): expected a string name, found ${show(name)}`);
    if (configName !== name)
      this.fail(
        `layer ${quote(name)}: expected its config name to be the same, found ${configName === undefined ? 'none' : quote(configName)}`,
      );
    return { name, className };
  }

  /** One call: the tensors it reads, as args (Keras 2 refs, or Keras 3 args) and kwargs. */
  private node(at: string, node: unknown): { args: Ref[]; kwargs: Ref[] } {
    if (Array.isArray(node)) {
      this.count('refs', node.length);
      return {
        args: node.map((r) =>
          this.ref(at, r, 'a reference [layer name, node index, tensor index]'),
        ),
        kwargs: [],
      };
    }
    if (isObject(node) && Array.isArray(node.args)) {
      const args: Ref[] = [];
      const kwargs: Ref[] = [];
      this.kerasTensors(at, node.args, args);
      this.kerasTensors(at, node.kwargs, kwargs);
      return { args, kwargs };
    }
    return this.fail(
      `${at}: expected a list of [layer, node index, tensor index] references or {args, kwargs}, found ${show(node)}`,
    );
  }

  /** The Keras 3 `__keras_tensor__` histories in a call's args or kwargs, in order. */
  private kerasTensors(at: string, value: unknown, out: Ref[]): void {
    const stack: unknown[] = [value];
    const found: Ref[] = [];
    while (stack.length > 0) {
      const v = stack.pop();
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
      } else if (isObject(v)) {
        if (v.class_name === '__keras_tensor__') {
          this.count('refs');
          const history = isObject(v.config) ? v.config.keras_history : undefined;
          found.push(this.ref(at, history, 'keras_history [layer name, node index, tensor index]'));
        } else {
          const values = Object.values(v);
          for (let i = values.length - 1; i >= 0; i--) stack.push(values[i]);
        }
      }
    }
    out.push(...found);
  }

  private ref(at: string, r: unknown, expected: string): Ref {
    if (
      !Array.isArray(r) ||
      r.length < 3 ||
      r.length > 4 ||
      typeof r[0] !== 'string' ||
      !isIndex(r[1]) ||
      !isIndex(r[2]) ||
      (r[3] !== undefined && r[3] !== null && !isObject(r[3]))
    )
      this.fail(`${at}: expected ${expected}, found ${show(r)}`);
    return { layer: r[0], node: r[1], tensor: r[2] };
  }

  /** input_layers or output_layers: one reference (Keras 3 may write one bare) or a list. */
  private ends(label: string, key: string, value: unknown): Ref[] {
    const list = Array.isArray(value) && typeof value[0] === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.length === 0)
      this.fail(
        `${label}: expected ${key}, a list of [layer, node index, tensor index], found ${show(value)}`,
      );
    this.count('refs', list.length);
    return list.map((r) =>
      this.ref(`${label} ${key}`, r, 'a reference [layer name, node index, tensor index]'),
    );
  }

  /**
   * Every reference names a layer and a call it makes; the calls form no cycle. A call
   * (layer, k) waits for the calls it reads and for (layer, k - 1): tfjs-layers numbers a
   * layer's calls in the order they run.
   */
  private graph(label: string, config: Json, layers: Map<string, Layer>): void {
    const callsOf = (l: Layer): number => l.ownCalls + l.calls.length;
    const resolve = (at: string, r: Ref): Layer => {
      const target = layers.get(r.layer);
      if (target === undefined)
        this.fail(
          `${at} reads layer ${quote(r.layer)}: expected a layer of ${label}, found none of that name`,
        );
      const calls = callsOf(target);
      if (r.node >= calls)
        this.fail(
          `${at} reads call ${r.node} of layer ${quote(r.layer)}: expected a node index below ${calls} (its calls), found ${r.node}`,
        );
      return target;
    };
    for (const key of ['input_layers', 'output_layers'])
      for (const r of this.ends(label, key, config[key])) resolve(`${label} ${key}`, r);
    // Calls as vertices: base[layer] + call index.
    const base = new Map<string, number>();
    const owner: Layer[] = [];
    /** Each call's layer's place in the layer list. */
    const place: number[] = [];
    let at = 0;
    for (const l of layers.values()) {
      base.set(l.name, owner.length);
      for (let k = 0; k < callsOf(l); k++) {
        owner.push(l);
        place.push(at);
      }
      at++;
    }
    const waitsOn: number[][] = owner.map(() => []);
    for (const l of layers.values()) {
      const first = base.get(l.name)!;
      for (let k = 1; k < callsOf(l); k++) waitsOn[first + k].push(first + k - 1);
      l.calls.forEach((refs, j) => {
        const at = `layer ${quote(l.name)} inbound node ${j}`;
        const v = first + l.ownCalls + j;
        for (const r of refs) {
          resolve(at, r);
          waitsOn[v].push(base.get(r.layer)! + r.node);
        }
      });
      for (const r of l.alsoReads) resolve(`layer ${quote(l.name)}`, r);
    }
    // Kahn's algorithm: a call is ready once everything it waits on is.
    const pending = waitsOn.map((w) => w.length);
    const readers: number[][] = owner.map(() => []);
    waitsOn.forEach((w, v) => w.forEach((u) => readers[u].push(v)));
    const ready = pending.flatMap((n, v) => (n === 0 ? [v] : []));
    const order: number[] = [];
    while (ready.length > 0) {
      const u = ready.pop()!;
      order.push(u);
      for (const v of readers[u]) if (--pending[v] === 0) ready.push(v);
    }
    if (order.length === owner.length) {
      this.passes(label, layers.size, order, waitsOn, place);
      return;
    }
    // Walk back through waiting calls until one repeats: it is on a cycle.
    let v = pending.findIndex((n) => n > 0);
    const seen = new Set<number>();
    while (!seen.has(v)) {
      seen.add(v);
      v = waitsOn[v].find((u) => pending[u] > 0)!;
    }
    this.fail(
      `${label}: expected layer calls that do not depend on themselves, found a cycle through layer ${quote(owner[v].name)}`,
    );
  }

  /**
   * tfjs-layers visits the whole layer list once per pass, running each call whose inputs
   * exist: a call reading a layer listed after it waits for the next pass. Keras lists layers
   * in the order they run (one pass; a few with shared layers); a crafted order can need a
   * pass per layer, quadratic work that takes minutes. The passes of each call, in a
   * topological `order`: those of what it reads, one more for each read of a later layer.
   */
  private passes(
    label: string,
    layerCount: number,
    order: number[],
    waitsOn: number[][],
    place: number[],
  ): void {
    const pass = new Array<number>(place.length).fill(0);
    let most = 0;
    for (const v of order) {
      if (waitsOn[v].length === 0) continue; // an input layer's or a model's own node
      let p = 1;
      for (const u of waitsOn[v]) p = Math.max(p, pass[u] + (place[u] > place[v] ? 1 : 0));
      pass[v] = p;
      most = Math.max(most, p);
    }
    if (most * layerCount > TOPOLOGY_LIMITS.rebuildWork)
      this.fail(
        `${label}: expected its layers listed in the order they run, found an order that takes ${most} passes over ${layerCount} layers to rebuild (damaged or crafted?)`,
      );
  }
}

/**
 * Checks a layers-model topology of `file` (see the module comment): a `model_config` wrapper
 * (a Keras .h5's, TF.js' own) or the model config itself, with a Sequential or functional
 * model at the top. A UserError says what is wrong.
 */
export function checkLayersTopology(file: string, topology: unknown): void {
  const checker: Checker = new Checker(file);
  if (!isObject(topology))
    checker.fail(`expected a layers-model topology (an object), found ${show(topology)}`);
  const wrapped = 'model_config' in topology;
  const model = wrapped ? topology.model_config : topology;
  if (!isObject(model))
    checker.fail(`expected model_config to be a model (an object), found ${show(model)}`);
  const cls = model.class_name;
  if (typeof cls !== 'string' || !MODEL_CLASSES.has(cls))
    checker.fail(
      `expected a Sequential or functional model at the top of the topology, found class_name ${show(cls)}`,
    );
  checker.walk(model);
}
