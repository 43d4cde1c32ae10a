import { writeFileSync } from 'node:fs';
import { settingsJsonSchemaText } from '../src/core/settings.ts';

// `npm run settings-schema`: regenerates docs/settings.schema.json from the zod schema; a test fails while it is stale.
const target = new URL('../docs/settings.schema.json', import.meta.url);
writeFileSync(target, settingsJsonSchemaText());
process.stdout.write(`wrote ${target.pathname}\n`);
