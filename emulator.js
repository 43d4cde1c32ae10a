// `import { startEmulator, connectEmulator } from 'usersync/emulator'`: the emulator's programmatic API
// (src/emulator/index.ts, docs/emulator.md §10) for other projects on Node 24 or later, from a checkout or from
// node_modules (where Node does not strip TypeScript types itself: bin/ts-hooks.js does).
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

if (fileURLToPath(import.meta.url).includes(`${sep}node_modules${sep}`)) await import('./bin/ts-hooks.js');
const api = await import('./src/emulator/index.ts');

export const { DEFAULT_ROLES, startEmulator, connectEmulator, EmulatorControlError } = api;
