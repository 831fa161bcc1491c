import type { LayerEntry } from '../tfjs/nestedModels';
import { isModelClass, layerEntries, nameOf } from '../tfjs/nestedModels';

/** Keras' snake_case of a class name (as keras.src.utils.naming.to_snake_case): Conv2D -> conv2d. */
export function kerasSnakeCase(className: string): string {
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * Where the weights file of a .keras archive (Keras 3, and tf.keras 2.13's new format) keeps
 * each layer's variables. Keras addresses a layer by class and position, not by its name: the
 * layers of a model are `layers/<class>`, `layers/<class>_1`, `layers/<class>_2`... in config
 * order (class in snake_case, counted per class), and a nested model's layers continue its path
 * (`layers/functional/layers/dense`). Returns layer-name path (names from the top model down,
 * joined by '/') -> group path; the variables are in `<group>/vars/0`, `/1`...
 */
export function kerasWeightGroups(model: LayerEntry): Map<string, string> {
  const groups = new Map<string, string>();
  const walk = (m: LayerEntry, names: string[], prefix: string): void => {
    const seen = new Map<string, number>();
    for (const layer of layerEntries(m)) {
      const base = kerasSnakeCase(layer.class_name);
      const k = seen.get(base) ?? 0;
      seen.set(base, k + 1);
      const group = `${prefix}layers/${k === 0 ? base : `${base}_${k}`}`;
      const path = [...names, nameOf(layer)];
      groups.set(path.join('/'), group);
      if (isModelClass(layer.class_name)) walk(layer, path, `${group}/`);
    }
  };
  walk(model, [], '');
  return groups;
}
