#!/usr/bin/env node
// `usersync-emulator [options]` is `usersync emulator [options]`: the Microsoft Graph + Entra ID emulator on its own,
// for other projects (`npx usersync-emulator --users 500`). docs/emulator.md §10.
process.argv.splice(2, 0, 'emulator');
await import('./usersync.js');
