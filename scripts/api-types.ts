// Generates web/src/api-types.ts from the service's OpenAPI document, so the console's types of API shapes come from
// the same zod schemas the server validates with, never written twice. `npm run api-types` rewrites the file; the
// tests check that it is current.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiTypesSource } from './api-types-source.ts';

const target = fileURLToPath(new URL('../web/src/api-types.ts', import.meta.url));
writeFileSync(target, await apiTypesSource());
console.log(`wrote ${target}`);
