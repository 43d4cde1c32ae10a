import pino from 'pino';
import { createApp } from '../src/api/app.ts';

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  additionalProperties?: boolean | Schema;
  const?: unknown;
  description?: string;
  nullable?: boolean;
};

/** TypeScript for one JSON Schema (the subset zod's OpenAPI output uses). */
function typeOf(schema: Schema | undefined, indent = ''): string {
  if (!schema) return 'unknown';
  if (schema.$ref) return schema.$ref.split('/').pop()!;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return alternatives.map((s) => typeOf(s, indent)).join(' | ');
  if (schema.allOf) return schema.allOf.map((s) => typeOf(s, indent)).join(' & ');
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1) return types.map((t) => typeOf({ ...schema, type: t }, indent)).join(' | ');
  const nullable = schema.nullable ? ' | null' : '';
  switch (types[0]) {
    case 'string':
      return `string${nullable}`;
    case 'number':
    case 'integer':
      return `number${nullable}`;
    case 'boolean':
      return `boolean${nullable}`;
    case 'null':
      return 'null';
    case 'array':
      return `${wrap(typeOf(schema.items, indent))}[]${nullable}`;
    case 'object': {
      const props = Object.entries(schema.properties ?? {});
      const extra =
        schema.additionalProperties && typeof schema.additionalProperties === 'object'
          ? `${indent}  [key: string]: ${typeOf(schema.additionalProperties, `${indent}  `)};\n`
          : props.length === 0
            ? `${indent}  [key: string]: unknown;\n`
            : '';
      const lines = props.map(([name, s]) => {
        const doc = s.description ? `${indent}  /** ${s.description.replace(/\*\//g, '* /')} */\n` : '';
        const optional = (schema.required ?? []).includes(name) ? '' : '?';
        return `${doc}${indent}  ${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}${optional}: ${typeOf(s, `${indent}  `)};\n`;
      });
      return `{\n${lines.join('')}${extra}${indent}}${nullable}`;
    }
    default:
      return 'unknown';
  }
}

function wrap(type: string): string {
  return /[|&]/.test(type) && !type.startsWith('{') ? `(${type})` : type;
}

export async function apiTypesSource(): Promise<string> {
  const app = createApp({ logger: pino({ level: 'silent' }), metrics: { httpRequest: () => {} } } as never);
  const doc = (await (await app.request('/api/openapi.json')).json()) as {
    components: { schemas: Record<string, Schema> };
  };
  const names = Object.keys(doc.components.schemas).sort();
  const body = names.map((name) => `export type ${name} = ${typeOf(doc.components.schemas[name])};\n`).join('\n');
  return `// Generated from the service's OpenAPI document by \`npm run api-types\` (scripts/api-types.ts). Do not edit.\n\n${body}`;
}
