import { UserError } from '../../errors';
import type { LayerInfo } from '../format';

function listNames(layers: LayerInfo[]): string {
  const names = layers.map((l) => l.name);
  return names.length > 40
    ? `${names.slice(0, 40).join(', ')}, ... (${names.length} in all)`
    : names.join(', ');
}

/**
 * The layers a capture reads: the requested names in the order given (each checked against
 * the model), or every layer measured by default, in model order.
 */
export function resolveLayerNames(
  file: string,
  layers: LayerInfo[],
  requested?: string[],
): string[] {
  if (requested === undefined || requested.length === 0) {
    const names = layers.filter((l) => l.measuredByDefault).map((l) => l.name);
    if (names.length === 0) {
      throw new UserError(
        `${file}: no layer is measured by default: expected --layers naming some of ${listNames(layers)}`,
      );
    }
    return names;
  }
  const known = new Set(layers.map((l) => l.name));
  for (const name of requested) {
    if (!known.has(name)) {
      throw new UserError(`${file}: unknown layer '${name}': expected one of ${listNames(layers)}`);
    }
  }
  const seen = new Set<string>();
  for (const name of requested) {
    if (seen.has(name))
      throw new UserError(`${file}: layer '${name}' is named twice: expected each layer once`);
    seen.add(name);
  }
  return requested;
}
