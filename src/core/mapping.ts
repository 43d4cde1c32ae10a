import { DEFAULT_SOURCES, PROFILE_FIELDS, type Profile, type ProfileField } from './directory.ts';

export { DEFAULT_SOURCES };
import {
  compileExpression,
  graphUserAttributes,
  type CompiledExpression,
  type EvaluationContext,
  type Value,
} from './expression/index.ts';
import { PRESETS } from './presets.ts';
import type { Settings } from './settings.ts';

// The mapping stage: a Graph user object → the directory's profile fields and custom fields, by the settings'
// `mapping` (compiled once), with the default map for every field the settings do not list. Pure; a user whose
// mapping fails gets an error naming the field and why, and the caller skips that user.

type FieldMapping = NonNullable<NonNullable<Settings['mapping']>['fields']>[string];

export interface MappedUser {
  profile: Profile;
  custom: Record<string, string | number | boolean | null>;
}

export interface MappingError {
  field: string;
  message: string;
}

export interface CompiledMapping {
  /** Graph user properties the mapping reads (for `$select`). */
  readonly properties: readonly string[];
  /** loginAccount comes straight from userPrincipalName, which Entra keeps unique: no other user can hold a user's value. */
  readonly uniqueLogins: boolean;
  /**
   * Maps one Graph user. `existing` is the stored user, or null when the user would be created: fields mapped with
   * `applyOn: create` keep their stored value, and IgnoreFlowIfNullOrEmpty leaves a field as it was.
   */
  map(
    user: Record<string, unknown>,
    existing: MappedUser | null,
    context?: Partial<EvaluationContext>,
  ): { ok: MappedUser } | { error: MappingError };
}

interface FieldRule {
  field: string;
  custom: boolean;
  evaluate: (
    read: (name: string) => Value,
    context?: Partial<EvaluationContext>,
  ) => { value: Value } | { ignored: true };
  defaultValue: Value | undefined;
  onCreateOnly: boolean;
}

export function compileMapping(mapping: Settings['mapping'] = {}): CompiledMapping {
  const properties = new Set<string>(['id', 'accountEnabled']);
  const rules: FieldRule[] = [];
  const add = (field: string, custom: boolean, m: FieldMapping) => {
    let evaluate: FieldRule['evaluate'];
    if (m.source !== undefined) {
      const source = m.source;
      properties.add(graphProperty(source));
      evaluate = (read) => ({ value: read(source) });
    } else if (m.expression !== undefined || m.preset !== undefined) {
      const compiled: CompiledExpression = compileExpression(m.expression ?? PRESETS[m.preset!]);
      for (const a of compiled.attributes) properties.add(graphProperty(a));
      // Evaluated values come back as JSON (dates already as text), a subset of Value.
      evaluate = (read, context) => compiled.evaluate(read, context) as { value: Value } | { ignored: true };
    } else {
      const constant = (m.constant ?? null) as Value;
      evaluate = () => ({ value: constant });
    }
    rules.push({
      field,
      custom,
      evaluate,
      defaultValue: m.default as Value | undefined,
      onCreateOnly: m.applyOn === 'create',
    });
  };
  for (const field of PROFILE_FIELDS) add(field, false, mapping.fields?.[field] ?? { source: DEFAULT_SOURCES[field] });
  for (const [name, m] of Object.entries(mapping.custom ?? {})) add(name, true, m);

  const login = mapping.fields?.loginAccount;
  return {
    properties: [...properties],
    uniqueLogins:
      login === undefined ||
      (login.source?.toLowerCase() === 'userprincipalname' &&
        login.default === undefined &&
        login.applyOn !== 'create'),
    map(user, existing, context) {
      const read = graphUserAttributes(user);
      const profile = {} as Record<ProfileField, string | null>;
      const custom: Record<string, string | number | boolean | null> = {};
      for (const rule of rules) {
        const before = existing
          ? rule.custom
            ? (existing.custom[rule.field] ?? null)
            : existing.profile[rule.field as ProfileField]
          : null;
        let value: string | number | boolean | null;
        if (rule.onCreateOnly && existing) {
          value = before;
        } else {
          let outcome: { value: Value } | { ignored: true };
          try {
            outcome = rule.evaluate(read, context);
          } catch (error) {
            return { error: { field: rule.field, message: (error as Error).message } };
          }
          if ('ignored' in outcome) value = before;
          else {
            const single = toFieldValue(outcome.value, rule.custom);
            if (typeof single === 'object' && single !== null)
              return { error: { field: rule.field, message: single.error } };
            value = single;
            if ((value === null || value === '') && rule.defaultValue !== undefined)
              value = toFieldValue(rule.defaultValue, rule.custom) as string | number | boolean | null;
          }
        }
        if (!rule.custom && rule.field === 'loginAccount' && (value === null || value === '')) {
          return {
            error: {
              field: 'loginAccount',
              message:
                'maps to an empty value; every directory user needs a login account (check mapping.fields.loginAccount)',
            },
          };
        }
        if (rule.custom) custom[rule.field] = value;
        else profile[rule.field as ProfileField] = value === null ? null : String(value);
      }
      return { ok: { profile: profile as Profile, custom } };
    },
  };
}

/** A mapped value as a field holds it: text trimmed (empty → null); numbers and booleans kept in custom fields. */
function toFieldValue(value: Value, custom: boolean): string | number | boolean | null | { error: string } {
  if (value === null) return null;
  if (Array.isArray(value)) {
    if (value.length <= 1) return toFieldValue(value[0] ?? null, custom);
    return {
      error: `maps to ${value.length} values; a field holds one (pick one with Item(…, 1), or combine them with Join)`,
    };
  }
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? null : trimmed;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return custom ? value : String(value);
  return String(value);
}

/** The Graph property that holds an attribute (`[extensionAttribute3]` lives in onPremisesExtensionAttributes). */
export function graphProperty(attribute: string): string {
  if (/^objectid$/i.test(attribute)) return 'id';
  if (/^extensionattribute([1-9]|1[0-5])$/i.test(attribute)) return 'onPremisesExtensionAttributes';
  return attribute;
}

/** The Graph properties that hold the attributes an expression reads, with the user's id and UPN. */
export function graphSelect(attributes: readonly string[]): string[] {
  return [...new Set(['id', 'userPrincipalName', ...attributes.map(graphProperty)])];
}
