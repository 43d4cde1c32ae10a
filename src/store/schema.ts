import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { RunStatus } from '../core/run-lifecycle.ts';

// Table shapes exactly as stored. On both dialects: timestamps are ISO-8601 text,
// JSON is text, booleans are integers 0/1 (the query functions expose booleans).

/** present in the source; deleted in Entra; absent from a full read; present but out of the connection's scope. */
export type SourceState = 'present' | 'deleted' | 'missing' | 'out_of_scope' | 'local';
export type UserStatus = 'active' | 'disabled';
export type GroupType = 'microsoft365' | 'security' | 'mail-enabled-security' | 'distribution';
export type MemberKind = 'user' | 'group';
export type RoundMode = 'full' | 'delta';
export type { RunStatus };

/** 0 or 1. */
type Flag = number;

export type DirectoryUsersTable = {
  connection_id: string;
  external_id: string;
  login_account: string | null;
  name: string | null;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  user_type: string | null;
  job_title: string | null;
  department: string | null;
  manager_external_id: string | null;
  country: string | null;
  office_location: string | null;
  city: string | null;
  mobile_phone: string | null;
  postal_code: string | null;
  company_name: string | null;
  employee_no: string | null;
  fax_number: string | null;
  account_enabled: Flag;
  source_state: SourceState;
  status: UserStatus;
  custom_fields: ColumnType<string, string | undefined, string>;
  fingerprint: string;
  /** Set when lifecycle.onLeave "remove" took the user out of the directory (kept for a return and the audit). */
  removed_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** 1 while the user's photo still has to be checked (photos are not in users delta). */
  photo_pending: ColumnType<number, number | undefined, number>;
  seen_round: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
  updated_at: string;
};

export type DirectoryGroupsTable = {
  connection_id: string;
  external_id: string;
  name: string | null;
  type: GroupType;
  source_state: SourceState;
  fingerprint: string;
  seen_round: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
  updated_at: string;
};

export type GroupMembersTable = {
  connection_id: string;
  group_external_id: string;
  member_external_id: string;
  member_kind: MemberKind;
  seen_round: ColumnType<string | null, string | null | undefined, string | null>;
};

export type DepartmentsTable = {
  connection_id: string;
  name: string;
  created_at: string;
  created_run_id: string | null;
};

export type PhotosTable = {
  connection_id: string;
  external_id: string;
  sha256: string;
  content_type: string | null;
  bytes: Uint8Array;
  etag: string | null;
  updated_at: string;
};

export type SyncStateTable = {
  connection_id: string;
  users_delta_link: string | null;
  users_next_link: string | null;
  groups_delta_link: string | null;
  groups_next_link: string | null;
  round_id: string | null;
  round_mode: RoundMode | null;
  users_round_mode: RoundMode | null;
  groups_round_mode: RoundMode | null;
  photo_sweep_after: string | null;
  last_photo_sweep_at: string | null;
  /** The users `$select` (sorted, comma-separated) that the stored users links carry; null before the mirror was filled. */
  users_select: string | null;
  /** The settings version the directory reflects (0 = the defaults); null before the first run that applied settings. */
  applied_settings_version: number | null;
  /** A re-application of every mirrored user in progress: the last id done ('' = from the start); null = none. */
  project_after: string | null;
  /** Group-scoped reading: what the stored links cover (JSON: the scope groups, nesting, the groups read); null = the whole tenant. */
  read_scope: string | null;
  updated_at: string | null;
};

export type SourceUsersTable = {
  connection_id: string;
  external_id: string;
  /** The Graph user object as last read (selected properties; no manager, no annotations), as JSON. */
  data: string;
  manager_external_id: string | null;
  state: 'present' | 'deleted' | 'missing';
  /** 1 while the user's directory record must be computed again. */
  pending: ColumnType<number, number | undefined, number>;
  seen_round: ColumnType<string | null, string | null | undefined, string | null>;
  updated_at: string;
};

export type RunsTable = {
  id: string;
  connection_id: string;
  mode: string;
  dry_run: Flag;
  status: RunStatus;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  summary: string | null;
  graph_requests: number | null;
  error: string | null;
  fell_back_to_full: Flag;
  /** The process that ran it (null for runs recorded before migration 003). */
  pid: number | null;
  host: string | null;
  /** The failure's code (GraphError, StoreError, … codes), and its hint and context as JSON. */
  error_code: string | null;
  error_detail: string | null;
  /** Who or what asked for it: schedule, now (Sync Now in the console), api, cli. */
  trigger: ColumnType<RunTrigger, RunTrigger | undefined, RunTrigger>;
  /** The admin or token that asked (null for the schedule and the command line's own runs). */
  requested_by: ColumnType<string | null, string | null | undefined, string | null>;
  queued_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** 1: asked for a full read (`--full`). */
  full_read: ColumnType<number, number | undefined, number>;
  /** 1: an administrator asked to stop it; the run stops at its next page boundary. */
  cancel_requested: ColumnType<number, number | undefined, number>;
  /** Dry runs: the changes they would make, as JSON (the first ones). */
  changes: ColumnType<string | null, string | null | undefined, string | null>;
  /** While running: the last progress reported (JSON), so every process can show it. */
  progress: ColumnType<string | null, string | null | undefined, string | null>;
  /** A test sync of a draft (the setup wizard's): the settings document it runs with, as JSON; null: the stored ones. */
  draft_settings: ColumnType<string | null, string | null | undefined, string | null>;
  /** Answers of Graph that throttled this run (429, 503); null for runs recorded before usersync counted them. */
  throttled: ColumnType<number | null, number | null | undefined, number | null>;
};

export type RunTrigger = 'schedule' | 'now' | 'api' | 'cli';

export type ConnectionsTable = {
  id: string;
  name: string;
  tenant_id: string;
  client_id: string;
  /** secret | certificate | consent (the service's own multi-tenant app, granted by admin consent) | environment (AZURE_* variables). */
  credential_kind: string;
  /** The secret or the certificate's PEM (key included), encrypted (secrets/box.ts); '' when there is none. */
  credential: string;
  /** JSON of what may be shown about the credential: a certificate's thumbprint and expiry, a secret's last characters' hint. */
  credential_info: string;
  authority_host: string | null;
  graph_url: string | null;
  /** The schedule as JSON (jobs/schedule.ts). */
  schedule: string;
  /** When the schedule next starts a run; null when auto sync is off or paused. */
  next_run_at: string | null;
  created_at: string;
  created_by: string;
  updated_at: string;
  /** The setup wizard's draft (step, settings, schedule) as JSON; null when it was never opened. */
  setup: ColumnType<string | null, string | null | undefined, string | null>;
};

export type AdminsTable = {
  id: string;
  email: string;
  /** scrypt hash (admins/passwords.ts); null for admins who sign in with Microsoft or a sign-in link only. */
  password_hash: string | null;
  created_at: string;
  last_sign_in_at: string | null;
};

export type AdminSessionsTable = {
  token_hash: string;
  admin_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
};

export type ApiTokensTable = {
  id: string;
  name: string;
  token_hash: string;
  created_at: string;
  created_by: string;
  last_used_at: string | null;
  revoked_at: string | null;
};

export type SignInLinksTable = {
  token_hash: string;
  admin_id: string;
  expires_at: string;
  used_at: string | null;
};

/** One-time codes that create the first admin from the browser (printed by `usersync serve` on a store without one). */
export type SetupCodesTable = {
  token_hash: string;
  expires_at: string;
  used_at: string | null;
};

export type AdminActionsTable = {
  seq: ColumnType<number, never, never>;
  at: string;
  actor: string;
  action: string;
  connection_id: string | null;
  target: string | null;
  detail: string | null;
};

export type SettingsVersionsTable = {
  connection_id: string;
  version: number;
  /** The whole settings document as JSON. */
  document: string;
  changed_at: string;
  changed_by: string;
};

export type LeaverReason = 'deleted' | 'missing' | 'out_of_scope';

export type LeaversTable = {
  connection_id: string;
  external_id: string;
  reason: LeaverReason;
  /** pending: found by the run in progress (or one that was interrupted); held: over the threshold, waiting for an administrator. */
  status: 'pending' | 'held';
  run_id: string | null;
  since: string;
};

export type AuditTable = {
  seq: ColumnType<number, never, never>;
  connection_id: string;
  run_id: string | null;
  at: string;
  /** `sync`, or who decided (the command line's user@host). */
  actor: string;
  object_type: 'user' | 'group' | 'membership' | 'department' | 'photo';
  object_id: string;
  action: string;
  /** JSON: [{field, from, to}] (null when the action says it all). */
  changes: string | null;
};

export type OutboxTable = {
  id: string;
  connection_id: string;
  run_id: string | null;
  kind: 'welcome' | 'report';
  /** JSON array of addresses. */
  recipients: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
};

export type AppMembershipsTable = {
  connection_id: string;
  app_group: string;
  member_external_id: string;
  created_at: string;
};

export type LocksTable = {
  name: string;
  owner: string;
  pid: number;
  host: string;
  acquired_at: string;
  heartbeat_at: string;
};

export type Database = {
  directory_users: DirectoryUsersTable;
  directory_groups: DirectoryGroupsTable;
  group_members: GroupMembersTable;
  departments: DepartmentsTable;
  photos: PhotosTable;
  sync_state: SyncStateTable;
  runs: RunsTable;
  locks: LocksTable;
  settings_versions: SettingsVersionsTable;
  source_users: SourceUsersTable;
  leavers: LeaversTable;
  audit: AuditTable;
  outbox: OutboxTable;
  app_memberships: AppMembershipsTable;
  connections: ConnectionsTable;
  admins: AdminsTable;
  admin_sessions: AdminSessionsTable;
  api_tokens: ApiTokensTable;
  sign_in_links: SignInLinksTable;
  setup_codes: SetupCodesTable;
  admin_actions: AdminActionsTable;
};

export type DirectoryUserRow = Selectable<DirectoryUsersTable>;
export type NewDirectoryUserRow = Insertable<DirectoryUsersTable>;
export type DirectoryUserUpdate = Updateable<DirectoryUsersTable>;
export type DirectoryGroupRow = Selectable<DirectoryGroupsTable>;
export type SyncStateRow = Selectable<SyncStateTable>;
export type RunRow = Selectable<RunsTable>;
export type LockRow = Selectable<LocksTable>;
