// The emulator's programmatic API, as other projects import it (`import { startEmulator } from 'usersync/emulator'`):
// start an emulated tenant in process, or drive one running elsewhere through its control API. docs/emulator.md §10.

export { DEFAULT_ROLES, startEmulator, type Emulator, type EmulatorOptions } from './server.ts';
export {
  connectEmulator,
  EmulatorControlError,
  type EmulatorInfo,
  type FaultState,
  type RemoteEmulator,
  type RemoteOptions,
} from './remote.ts';
export type {
  CreateGroupInput,
  CreateUserInput,
  GroupPatch,
  ScriptChange,
  ScriptInput,
  ScriptResult,
  UserPatch,
} from './control.ts';
export type { FaultSettings, FaultSettingsPatch } from './faults.ts';
export type { GraphGroup, GraphUser } from './tenant/types.ts';
