/**
 * Which stored models can serve as the reference of a model: those measured on the same
 * layers with the same widths (the architecture a signature needs), newest first.
 */
import * as path from 'node:path';

export interface MeasuredModel {
  modelPath: string;
  analysedAt: string;
  /** Measured layers with their widths, e.g. [['hidden1', 64], ['hidden2', 64]]. */
  layers: [name: string, neurons: number][];
}

export const layerShape = (layers: MeasuredModel['layers']): string =>
  layers.map(([name, n]) => `${name} (${n})`).join(', ');

/**
 * The other models with the layers of `target`; when the target's layers are unknown (not
 * measured yet), every other measured model.
 */
export function referenceCandidates(
  target: string,
  targetLayers: MeasuredModel['layers'] | null,
  models: readonly MeasuredModel[],
): MeasuredModel[] {
  const self = path.resolve(target);
  const shape = targetLayers === null ? null : layerShape(targetLayers);
  return models
    .filter((m) => path.resolve(m.modelPath) !== self && path.dirname(m.modelPath) !== self)
    .filter((m) => shape === null || layerShape(m.layers) === shape)
    .sort((a, b) => b.analysedAt.localeCompare(a.analysedAt));
}
