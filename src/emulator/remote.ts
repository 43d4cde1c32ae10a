import { Agent, fetch as undiciFetch } from 'undici';
import type { CreateGroupInput, CreateUserInput, GroupPatch, ScriptInput, ScriptResult, UserPatch } from './control.ts';
import type { FaultSettings, FaultSettingsPatch } from './faults.ts';
import type { GraphGroup, GraphUser } from './tenant/types.ts';

// The emulator's control API (`/_emulator/…`) as typed calls, for programs in another process than the emulator —
// another language's tests drive the same routes with curl (docs/emulator.md §6). In the emulator's own process,
// `emulator.control` offers the same operations without HTTP.

export interface EmulatorInfo {
  authorityHost: string;
  graphUrl: string;
  tenantId: string;
  clientId: string;
  domain: string;
  users: number;
  groups: number;
  seq: number;
}

export interface FaultState {
  settings: FaultSettings;
  deltaGeneration: number;
  injected: Record<string, number>;
}

/** An error answer of the control API: the status, and Graph-style `code` and `message` (naming the field). */
export class EmulatorControlError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'EmulatorControlError';
    this.status = status;
    this.code = code;
  }
}

export interface RemoteOptions {
  /** The emulator's CA certificate (PEM) to trust; without it the process's own trust (NODE_EXTRA_CA_CERTS) applies. */
  ca?: string;
}

/**
 * The control API of the emulator serving `graphUrl` (the `USERSYNC_GRAPH_URL` of its connection line). Every call
 * resolves with the route's answer or rejects with an EmulatorControlError.
 */
export function connectEmulator(graphUrl: string, options: RemoteOptions = {}) {
  const base = `${graphUrl.replace(/\/+$/, '')}/_emulator`;
  const dispatcher = options.ca ? new Agent({ connect: { ca: options.ca } }) : undefined;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await undiciFetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher,
    });
    const text = await res.text();
    const data = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const error = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new EmulatorControlError(res.status, error?.code ?? 'Error', error?.message ?? text);
    }
    return data as T;
  }
  const id = (value: string) => encodeURIComponent(value);

  return {
    info: () => call<EmulatorInfo>('GET', '/info'),
    // Users
    createUser: (input: CreateUserInput) => call<GraphUser>('POST', '/users', input),
    updateUser: (user: string, patch: UserPatch) => call<GraphUser>('PATCH', `/users/${id(user)}`, patch),
    deleteUser: (user: string, options: { permanent?: boolean } = {}) =>
      call<void>('DELETE', `/users/${id(user)}${options.permanent ? '?permanent=true' : ''}`),
    restoreUser: (user: string) => call<GraphUser>('POST', `/users/${id(user)}/restore`),
    setManager: (user: string, managerId: string | null) =>
      call<void>('PUT', `/users/${id(user)}/manager`, { managerId }),
    generatePhoto: (user: string) => call<unknown>('PUT', `/users/${id(user)}/photo`, { generate: true }),
    deletePhoto: (user: string) => call<void>('DELETE', `/users/${id(user)}/photo`),
    // Groups
    createGroup: (input: CreateGroupInput) => call<GraphGroup>('POST', '/groups', input),
    updateGroup: (group: string, patch: GroupPatch) => call<GraphGroup>('PATCH', `/groups/${id(group)}`, patch),
    deleteGroup: (group: string, options: { permanent?: boolean } = {}) =>
      call<void>(
        'DELETE',
        `/groups/${id(group)}${options.permanent === undefined ? '' : `?permanent=${options.permanent}`}`,
      ),
    restoreGroup: (group: string) => call<GraphGroup>('POST', `/groups/${id(group)}/restore`),
    addMember: (group: string, member: string) => call<void>('POST', `/groups/${id(group)}/members`, { id: member }),
    removeMember: (group: string, member: string) => call<void>('DELETE', `/groups/${id(group)}/members/${id(member)}`),
    // Faults, delta tokens, the request log, apps, scripts
    faults: () => call<FaultState>('GET', '/faults'),
    setFaults: (patch: FaultSettingsPatch) => call<FaultState>('PUT', '/faults', patch),
    resetFaults: () => call<FaultState>('DELETE', '/faults'),
    expireDeltaTokens: () => call<{ deltaGeneration: number }>('POST', '/delta/expire'),
    requests: () => call<unknown>('GET', '/requests'),
    clearRequests: () => call<void>('DELETE', '/requests'),
    setAppRoles: (clientId: string, roles: string[]) =>
      call<{ clientId: string; roles: string[] }>('PUT', `/apps/${id(clientId)}/roles`, { roles }),
    script: (input: ScriptInput) => call<{ results: ScriptResult[]; seq: number }>('POST', '/script', input),
    /** Closes the connection pool (only needed with `ca`). */
    close: async () => dispatcher?.close(),
  };
}

export type RemoteEmulator = ReturnType<typeof connectEmulator>;
