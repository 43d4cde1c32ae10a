import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { apiTypesSource } from '../scripts/api-types-source.ts';

// The console's types of API shapes are generated from the OpenAPI document: the committed file must be current.

test('web/src/api-types.ts is generated from the current OpenAPI document (npm run api-types)', async () => {
  const committed = readFileSync(new URL('../web/src/api-types.ts', import.meta.url), 'utf8');
  assert.equal(committed, await apiTypesSource(), 'run `npm run api-types` and commit web/src/api-types.ts');
});
