/**
 * Reading a setting's raw value against its row of the settings table: what a valid value is,
 * and what an invalid one becomes. VS Code returns whatever settings.json holds (a string for
 * a number, a value an older version offered), so every value is coerced. No VS Code imports.
 */
import type { SettingKey, SettingSpec, SettingValue } from './settingsSchema';
import { settingSpec } from './settingsSchema';

/** Whether `value` is of the setting's type, within its range and among its choices. */
export function isValidSetting(key: SettingKey, value: unknown): boolean {
  const spec = settingSpec(key);
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' && (spec.enum === undefined || spec.enum.includes(value));
    case 'array':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'object':
      return isNumberMap(value);
    case 'integer':
    case 'number':
      return isNumberIn(spec, value);
    default:
      return value === null || isNumberIn({ ...spec, type: 'integer' }, value);
  }
}

/**
 * The value a setting takes from a raw one: a valid value as it is; a number out of range
 * clamped into it (an integer setting's number rounded); anything else, an unknown choice
 * included, the default. An array keeps its strings.
 */
export function coerceSetting<K extends SettingKey>(key: K, raw: unknown): SettingValue<K> {
  const spec = settingSpec(key);
  return coerce(spec, raw) as SettingValue<K>;
}

function coerce(spec: SettingSpec, raw: unknown): unknown {
  switch (spec.type) {
    case 'string':
      return typeof raw === 'string' && (spec.enum === undefined || spec.enum.includes(raw))
        ? raw
        : spec.default;
    case 'array':
      return Array.isArray(raw) ? raw.filter((v) => typeof v === 'string') : [...spec.default];
    case 'object':
      // An entry that is not a finite number is dropped.
      return typeof raw === 'object' && raw !== null && !Array.isArray(raw)
        ? Object.fromEntries(
            Object.entries(raw).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)),
          )
        : { ...spec.default };
    case 'integer':
    case 'number':
      return clamp(spec, raw) ?? spec.default;
    default:
      return raw === null ? null : (clamp({ ...spec, type: 'integer' }, raw) ?? spec.default);
  }
}

function isNumberMap(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'number' && Number.isFinite(v))
  );
}

type Range = { type: 'integer' | 'number'; minimum?: number; maximum?: number };

function isNumberIn(range: Range, value: unknown): boolean {
  return (
    typeof value === 'number' &&
    (range.type === 'number' ? Number.isFinite(value) : Number.isInteger(value)) &&
    value >= (range.minimum ?? -Infinity) &&
    value <= (range.maximum ?? Infinity)
  );
}

/** A finite number into the range (rounded for an integer); undefined for anything else. */
function clamp(range: Range, raw: unknown): number | undefined {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) return undefined;
  const v = range.type === 'integer' ? Math.round(raw) : raw;
  return Math.min(range.maximum ?? Infinity, Math.max(range.minimum ?? -Infinity, v));
}
