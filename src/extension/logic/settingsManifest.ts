/**
 * package.json's `contributes.configuration`, generated from the settings table:
 * scripts/syncSettings.mjs (`npm run sync:settings`) writes it, and a unit test checks that the
 * committed package.json is what it would write. No VS Code imports.
 */
import type { SettingSpec } from './settingsSchema';
import { SETTING_KEYS, settingSpec } from './settingsSchema';

/** The manifest entry of one setting, its keys in a fixed order. */
function manifestEntry(spec: SettingSpec, order: number): Record<string, unknown> {
  const entry: Record<string, unknown> = { type: spec.type };
  if (spec.type === 'array') entry.items = spec.items;
  if (spec.type === 'object') entry.additionalProperties = spec.additionalProperties;
  entry.default = spec.default;
  if (spec.type !== 'string' && spec.type !== 'array' && spec.type !== 'object') {
    if (spec.minimum !== undefined) entry.minimum = spec.minimum;
    if (spec.maximum !== undefined) entry.maximum = spec.maximum;
  }
  if (spec.type === 'string' && spec.enum !== undefined) {
    entry.enum = spec.enum;
    if (spec.enumDescriptions !== undefined) entry.enumDescriptions = spec.enumDescriptions;
  }
  if (spec.description !== undefined) entry.description = spec.description;
  if (spec.markdownDescription !== undefined) entry.markdownDescription = spec.markdownDescription;
  entry.scope = spec.scope;
  entry.order = order;
  return entry;
}

/** `contributes.configuration`: every setting of the table, in its order. */
export function configurationContribution(): {
  title: string;
  properties: Record<string, Record<string, unknown>>;
} {
  const properties: Record<string, Record<string, unknown>> = {};
  SETTING_KEYS.forEach((key, i) => {
    properties[`memlens.${key}`] = manifestEntry(settingSpec(key), i + 1);
  });
  return { title: 'MemLens', properties };
}

/** The `memlens.*` settings an untrusted workspace may not set, in table order. */
export function restrictedSettings(): string[] {
  return SETTING_KEYS.filter((key) => settingSpec(key).restricted === true).map(
    (key) => `memlens.${key}`,
  );
}

/**
 * package.json's text with `contributes.configuration` replaced by the generated one and
 * everything else byte for byte as it was. The file must be 2-space JSON with a trailing
 * newline (what parsing and printing it gives back); any other layout is refused rather than
 * reformatted.
 */
export function withConfiguration(packageJson: string): string {
  const manifest = JSON.parse(packageJson) as { contributes?: Record<string, unknown> };
  const print = (): string => `${JSON.stringify(manifest, null, 2)}\n`;
  if (print() !== packageJson) {
    throw new Error('package.json: expected 2-space JSON with a trailing newline');
  }
  if (manifest.contributes === undefined) throw new Error('package.json: no "contributes"');
  manifest.contributes.configuration = configurationContribution();
  return print();
}
