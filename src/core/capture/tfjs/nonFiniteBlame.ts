/**
 * Who made a non-finite activation. Capture refuses NaN and infinite activations with an error
 * that names the probe (common/batchCapture.ts: "<probe>: layer 'x' produced NaN on probe
 * example i (neuron j): expected finite activations"). When the probe's values are finite
 * (loadProbe checks that as it reads them) the value comes from the model: corrupt weights (a
 * NaN in a shard), an overflow, inputs outside its domain. This rewrites that error to say so,
 * naming the first weight that holds a non-finite value when there is one.
 */
import { UserError } from '../../errors';
import type { ProbeSet } from '../../probe/types';

/** The capture error for a non-finite activation: layer, value, example, neuron. */
const NON_FINITE =
  /: layer '(.*)' produced (NaN|-?Infinity) on probe example (\d+) \(neuron (\d+)\)/;

/** A weight of the model: its name, its layer when known, and a way to read its values. */
export interface NamedWeight {
  name: string;
  layer?: string;
  values: () => Promise<ArrayLike<number>>;
}

export function allFinite(data: ArrayLike<number>): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  return true;
}

/** A non-finite activation as capture found it. */
export interface NonFinite {
  layer: string;
  value: number;
  example: number;
  neuron: number;
}

/**
 * The error for a non-finite activation `found` capturing a finite probe on the model in
 * `file`: it blames the model, and the first non-finite value of `weights` when there is one
 * (`null`: the weights are not at hand to look at).
 */
export async function modelNonFinite(
  file: string,
  found: NonFinite,
  weights: Iterable<NamedWeight> | null,
): Promise<UserError> {
  const produced = `layer '${found.layer}' produced ${String(found.value)} on probe example ${found.example} (neuron ${found.neuron}) from finite probe values`;
  for (const w of weights ?? []) {
    const data = await w.values();
    for (let i = 0; i < data.length; i++) {
      if (Number.isFinite(data[i])) continue;
      const of = w.layer === undefined || w.layer === w.name ? '' : ` of layer '${w.layer}'`;
      return new UserError(
        `${file}: ${produced}: expected finite weights, found ${String(data[i])} in weight '${w.name}'${of} (value ${i}): the model file may be corrupt`,
      );
    }
  }
  const causes =
    weights === null
      ? 'corrupt weights, an overflow, or inputs outside what the model accepts?'
      : 'its weights are finite: an overflow, or inputs outside what the model accepts?';
  return new UserError(`${file}: ${produced}: the model computes it (${causes})`);
}

/**
 * The error to report for `err`, raised capturing `probe` on the model in `file`: a
 * non-finite activation from a finite probe becomes one that blames the model (and the first
 * non-finite weight of `weights`, read only then; null when they are not at hand); anything
 * else is returned as it is.
 */
export async function blameNonFinite(
  file: string,
  probe: ProbeSet,
  err: unknown,
  weights: () => Iterable<NamedWeight> | null,
): Promise<unknown> {
  if (!(err instanceof UserError) || !err.message.startsWith(`${probe.source}: `)) return err;
  const m = NON_FINITE.exec(err.message);
  if (m === null || !allFinite(probe.data)) return err;
  const [, layer, value, example, neuron] = m;
  return modelNonFinite(
    file,
    { layer, value: Number(value), example: Number(example), neuron: Number(neuron) },
    weights(),
  );
}
