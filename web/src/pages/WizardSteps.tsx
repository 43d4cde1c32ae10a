import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiProblem } from '../api.ts';
import type { DirectoryGroupPage, Preview, Schedule } from '../api-types.ts';
import { getIn, parseList, shown } from '../wizard.ts';
import { DEFAULT_SOURCES, PROFILE_FIELDS } from '../../../src/core/directory.ts';
import { PRESET_NAMES } from '../../../src/core/presets.ts';
import { OPERATOR_NAMES } from '../../../src/core/scope/filters.ts';
import { GROUP_TYPE_LABELS, GroupPicker, useGroupNames } from './GroupPicker.tsx';

// The pages of the setup wizard, one per step. Each edits the draft settings through `set(path, value)` (undefined
// puts a setting back to its default) and shows the API's errors on the fields they name.

export type Draft = Record<string, unknown>;

export interface StepProps {
  connectionId: string;
  settings: Draft;
  set: (path: string[], value: unknown) => void;
  schedule: Schedule;
  setSchedule: (s: Schedule) => void;
  problem: ApiProblem | null;
}

/** The API's messages for a field and everything under it. */
function errorsUnder(problem: ApiProblem | null, field: string): string[] {
  return (problem?.problem.errors ?? [])
    .filter((e) => e.field === field || e.field.startsWith(`${field}.`) || e.field.startsWith(`${field}[`))
    .map((e) => `${e.field.replace(/^settings\./, '')}: ${e.message}`);
}

function FieldErrors({ problem, field, id }: { problem: ApiProblem | null; field: string; id?: string }) {
  const messages = errorsUnder(problem, field);
  if (messages.length === 0) return null;
  return (
    <div role="alert" id={id}>
      <ul className="error field-errors">
        {messages.map((m) => (
          <li key={m}>{m}</li>
        ))}
      </ul>
    </div>
  );
}

function Choice<T extends string>({
  legend,
  name,
  value,
  options,
  onChange,
}: {
  legend: string;
  name: string;
  value: T;
  options: readonly (readonly [T, string])[];
  onChange: (v: T) => void;
}) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {options.map(([v, text]) => (
        <label key={v} className="choice">
          <input type="radio" name={name} checked={value === v} onChange={() => onChange(v)} /> {text}
        </label>
      ))}
    </fieldset>
  );
}

export function AutoSyncStep({ schedule, setSchedule }: StepProps) {
  return (
    <>
      <p>
        With auto sync on, usersync keeps the directory in step by itself on the schedule you choose at the end of the
        wizard. Off, it syncs only when you press Sync now (or a script calls the API).
      </p>
      <label className="inline big">
        <input
          type="checkbox"
          checked={schedule.enabled ?? false}
          onChange={(e) => setSchedule({ ...schedule, enabled: e.target.checked })}
        />{' '}
        Sync automatically
      </label>
    </>
  );
}

export function WhoStep({ connectionId, settings, set, problem }: StepProps) {
  const groups = (getIn(settings, ['scope', 'groups']) as string[] | undefined) ?? [];
  const [byGroups, setByGroups] = useState(groups.length > 0);
  const userTypes = (getIn(settings, ['scope', 'userTypes']) as string[] | undefined) ?? ['Member', 'Guest'];
  const toggleType = (t: string) => {
    const next = userTypes.includes(t) ? userTypes.filter((x) => x !== t) : [...userTypes, t];
    set(['scope', 'userTypes'], next.length === 2 ? undefined : next);
  };
  return (
    <>
      <Choice
        legend="Which users"
        name="who"
        value={byGroups ? 'groups' : 'all'}
        options={[
          ['all', 'Every user of the tenant'],
          ['groups', 'Members of the groups I pick'],
        ]}
        onChange={(v) => {
          setByGroups(v === 'groups');
          if (v === 'all') set(['scope', 'groups'], undefined);
        }}
      />
      {byGroups && (
        <>
          <GroupPicker
            connectionId={connectionId}
            label="Find groups"
            selected={groups}
            onChange={(ids) => set(['scope', 'groups'], ids.length ? ids : undefined)}
          />
          <label className="inline">
            <input
              type="checkbox"
              checked={(getIn(settings, ['scope', 'nestedGroups']) as boolean | undefined) ?? true}
              onChange={(e) => set(['scope', 'nestedGroups'], e.target.checked ? undefined : false)}
            />{' '}
            Include members of groups nested in them
          </label>
        </>
      )}
      <FieldErrors problem={problem} field="settings.scope.groups" />
      <fieldset>
        <legend>User types</legend>
        {['Member', 'Guest'].map((t) => (
          <label key={t} className="inline">
            <input type="checkbox" checked={userTypes.includes(t)} onChange={() => toggleType(t)} /> {t}s
          </label>
        ))}
      </fieldset>
      <FieldErrors problem={problem} field="settings.scope.userTypes" />
      <Choice
        legend="Disabled accounts"
        name="disabled"
        value={(getIn(settings, ['scope', 'disabledAccounts']) as 'sync' | 'skip' | undefined) ?? 'sync'}
        options={[
          ['sync', 'Keep them, marked disabled'],
          ['skip', 'Leave them out (they are treated as leavers)'],
        ]}
        onChange={(v) => set(['scope', 'disabledAccounts'], v === 'sync' ? undefined : v)}
      />
    </>
  );
}

type Clause = { attribute: string; operator: string; value?: string };
const NO_VALUE = new Set(['IS TRUE', 'IS FALSE', 'IS NULL', 'IS NOT NULL']);

export function FiltersStep({ settings, set, problem }: StepProps) {
  const excluded = (getIn(settings, ['scope', 'excludeEmails']) as string[] | undefined) ?? [];
  const [text, setText] = useState(excluded.join('\n'));
  const filters = (getIn(settings, ['scope', 'filters']) as Clause[][] | undefined) ?? [];
  const clauses = filters[0] ?? [];
  const setClauses = (next: Clause[]) =>
    set(['scope', 'filters'], next.length || filters.length > 1 ? [next, ...filters.slice(1)] : undefined);
  return (
    <>
      <label htmlFor="exclude">Never sync these addresses (one per line; * matches anything)</label>
      <textarea
        id="exclude"
        rows={4}
        value={text}
        placeholder={'*@contractors.example.com\nceo@example.com'}
        onChange={(e) => {
          setText(e.target.value);
          const list = parseList(e.target.value);
          set(['scope', 'excludeEmails'], list.length ? list : undefined);
        }}
        aria-describedby="exclude-hint"
      />
      <p className="hint" id="exclude-hint">
        Matched against each user's mail and user principal name, ignoring case.
      </p>
      <FieldErrors problem={problem} field="settings.scope.excludeEmails" />
      <h3>Attribute filters</h3>
      <p className="hint">
        Only users who match every clause are synced (Entra's scoping filters). For alternatives (any of several
        filters), use the settings JSON.
      </p>
      {clauses.map((c, i) => (
        <div className="row clause" key={i} role="group" aria-label={`Clause ${i + 1}`}>
          <div>
            <label htmlFor={`attr-${i}`}>Attribute</label>
            <input
              id={`attr-${i}`}
              value={c.attribute}
              onChange={(e) => setClauses(clauses.map((x, j) => (j === i ? { ...x, attribute: e.target.value } : x)))}
            />
          </div>
          <div>
            <label htmlFor={`op-${i}`}>Operator</label>
            <select
              id={`op-${i}`}
              value={c.operator}
              onChange={(e) =>
                setClauses(
                  clauses.map((x, j) =>
                    j === i
                      ? NO_VALUE.has(e.target.value)
                        ? { attribute: x.attribute, operator: e.target.value }
                        : { ...x, operator: e.target.value, value: x.value ?? '' }
                      : x,
                  ),
                )
              }
            >
              {OPERATOR_NAMES.map((o) => (
                <option key={o}>{o}</option>
              ))}
            </select>
          </div>
          {!NO_VALUE.has(c.operator) && (
            <div>
              <label htmlFor={`value-${i}`}>Value</label>
              <input
                id={`value-${i}`}
                value={c.value ?? ''}
                onChange={(e) => setClauses(clauses.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))}
              />
            </div>
          )}
          <div>
            <button
              type="button"
              className="secondary remove"
              onClick={() => setClauses(clauses.filter((_, j) => j !== i))}
            >
              Remove clause {i + 1}
            </button>
          </div>
        </div>
      ))}
      <button
        type="button"
        className="secondary"
        onClick={() => setClauses([...clauses, { attribute: 'department', operator: 'EQUALS', value: '' }])}
      >
        Add a clause
      </button>
      <FieldErrors problem={problem} field="settings.scope.filters" />
    </>
  );
}

type Rule = {
  source?: string;
  expression?: string;
  constant?: unknown;
  preset?: string;
  default?: unknown;
  applyOn?: string;
};
const KINDS = ['source', 'expression', 'constant', 'preset'] as const;
type Kind = (typeof KINDS)[number] | 'default';

function kindOf(rule: Rule | undefined): Kind {
  return KINDS.find((k) => rule?.[k] !== undefined) ?? 'default';
}

function MappingRow({
  name,
  rule,
  fallback,
  onChange,
  problem,
  path,
}: {
  name: string;
  rule: Rule | undefined;
  fallback: string | null;
  onChange: (r: Rule | undefined) => void;
  problem: ApiProblem | null;
  path: string;
}) {
  const kind = kindOf(rule);
  const value = kind === 'default' ? '' : String(rule?.[kind] ?? '');
  const errors = errorsUnder(problem, path);
  const setKind = (k: Kind) => {
    const { source: _s, expression: _e, constant: _c, preset: _p, ...rest } = rule ?? {};
    if (k === 'default') onChange(Object.keys(rest).length ? { source: fallback ?? '', ...rest } : undefined);
    else onChange({ ...rest, [k]: k === 'preset' ? PRESET_NAMES[0] : k === 'source' ? (fallback ?? '') : '' });
  };
  return (
    <tr aria-invalid={errors.length > 0}>
      <th scope="row">{name}</th>
      <td>
        <select aria-label={`${name}: mapped from`} value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
          <option value="default">{fallback ? `default (${fallback})` : 'default'}</option>
          <option value="source">Graph property</option>
          <option value="expression">expression</option>
          <option value="constant">constant</option>
          <option value="preset">preset</option>
        </select>
      </td>
      <td>
        {kind === 'preset' ? (
          <select
            aria-label={`${name}: preset`}
            value={value}
            onChange={(e) => onChange({ ...rule, preset: e.target.value })}
          >
            {PRESET_NAMES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        ) : kind === 'default' ? (
          <span className="meta">—</span>
        ) : (
          <input
            aria-label={`${name}: ${kind}`}
            value={value}
            className={kind === 'expression' ? 'code' : undefined}
            onChange={(e) => onChange({ ...rule, [kind]: e.target.value })}
          />
        )}
        {errors.map((m) => (
          <p key={m} className="error" role="alert">
            {m}
          </p>
        ))}
      </td>
      <td>
        <input
          aria-label={`${name}: default when empty`}
          value={rule?.default === undefined ? '' : String(rule.default)}
          disabled={kind === 'default'}
          onChange={(e) => {
            const { default: _d, ...rest } = rule ?? {};
            onChange(e.target.value === '' ? rest : { ...rest, default: e.target.value });
          }}
        />
      </td>
      <td>
        <input
          type="checkbox"
          aria-label={`${name}: only when the user is created`}
          checked={rule?.applyOn === 'create'}
          disabled={kind === 'default'}
          onChange={(e) => {
            const { applyOn: _a, ...rest } = rule ?? {};
            onChange(e.target.checked ? { ...rest, applyOn: 'create' } : rest);
          }}
        />
      </td>
    </tr>
  );
}

export function FieldsStep({ connectionId, settings, set, problem }: StepProps) {
  const fields = (getIn(settings, ['mapping', 'fields']) as Record<string, Rule> | undefined) ?? {};
  const custom = (getIn(settings, ['mapping', 'custom']) as Record<string, Rule> | undefined) ?? {};
  const [newName, setNewName] = useState('');
  return (
    <>
      <p>
        Each directory field takes its value from Entra. Leave a field at its default, or map it from another Graph
        property, an expression (such as <code>Coalesce([mail], [userPrincipalName])</code>), a constant or a preset.
      </p>
      <table className="mapping">
        <caption className="visually-hidden">How each directory field is mapped</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Mapped from</th>
            <th scope="col">Value</th>
            <th scope="col">Default when empty</th>
            <th scope="col">Only on create</th>
          </tr>
        </thead>
        <tbody>
          {PROFILE_FIELDS.map((f) => (
            <MappingRow
              key={f}
              name={f}
              rule={fields[f]}
              fallback={DEFAULT_SOURCES[f]}
              path={`settings.mapping.fields.${f}`}
              problem={problem}
              onChange={(r) => set(['mapping', 'fields', f], r)}
            />
          ))}
          {Object.keys(custom).map((f) => (
            <MappingRow
              key={`custom-${f}`}
              name={`${f} (custom)`}
              rule={custom[f]}
              fallback={null}
              path={`settings.mapping.custom.${f}`}
              problem={problem}
              onChange={(r) => set(['mapping', 'custom', f], r ?? undefined)}
            />
          ))}
        </tbody>
      </table>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (newName.trim()) set(['mapping', 'custom', newName.trim()], { source: 'employeeId' });
          setNewName('');
        }}
      >
        <div>
          <label htmlFor="custom-name">New custom field</label>
          <input
            id="custom-name"
            value={newName}
            onChange={(e) => setNewName(e.target.value)}
            placeholder="costCenter"
          />
        </div>
        <div>
          <button type="submit" className="secondary">
            Add custom field
          </button>
        </div>
      </form>
      <FieldErrors problem={problem} field="settings.mapping.custom" />
      <UserPreview connectionId={connectionId} settings={settings} />
    </>
  );
}

/** The record the draft produces for one real user, read from Entra (nothing written). */
function UserPreview({ connectionId, settings }: { connectionId: string; settings: Draft }) {
  const [user, setUser] = useState('');
  const preview = useMutation({
    mutationFn: () => api<Preview>('POST', `/connections/${connectionId}/preview`, { user, settings }),
  });
  const problem = preview.error instanceof ApiProblem ? preview.error : null;
  const record = preview.data?.record;
  return (
    <section className="preview-box" aria-labelledby="preview-title">
      <h3 id="preview-title">Try the fields on a user</h3>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          preview.mutate();
        }}
      >
        <div>
          <label htmlFor="preview-user">User principal name or object id</label>
          <input id="preview-user" value={user} onChange={(e) => setUser(e.target.value)} required />
        </div>
        <div>
          <button type="submit" className="secondary" disabled={preview.isPending}>
            Preview
          </button>
        </div>
      </form>
      {problem && (
        <p role="alert" className="error">
          {problem.message}
          {problem.problem.hint && <span className="hint"> {problem.problem.hint}</span>}
        </p>
      )}
      {preview.data && (
        <div role="status">
          <p>
            {preview.data.inScope ? 'In scope.' : `Not in scope: ${preview.data.reason}.`}
            {preview.data.error && (
              <span className="error">
                {' '}
                {preview.data.error.field}: {preview.data.error.message}
              </span>
            )}
          </p>
          {record && (
            <dl className="facts">
              {Object.entries(record)
                .filter(([k]) => k !== 'custom')
                .map(([k, v]) => (
                  <div key={k} className="fact">
                    <dt>{k}</dt>
                    <dd>{shown(v)}</dd>
                  </div>
                ))}
              {Object.entries((record.custom ?? {}) as Record<string, unknown>).map(([k, v]) => (
                <div key={k} className="fact">
                  <dt>{k} (custom)</dt>
                  <dd>{shown(v)}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      )}
    </section>
  );
}

export function GroupsStep({ connectionId, settings, set, problem }: StepProps) {
  const map = (getIn(settings, ['groups', 'map']) as Record<string, string> | undefined) ?? {};
  const types = getIn(settings, ['groups', 'types']) as string[] | undefined;
  const names = useGroupNames(connectionId, Object.keys(map));
  // The app groups the directory has (synced groups, and those already mapped onto), offered as names to map onto.
  const existing = useQuery({
    queryKey: ['groups', connectionId, 'app-names'],
    queryFn: () => api<DirectoryGroupPage>('GET', `/connections/${connectionId}/groups?limit=1000`),
  });
  const appGroups = [
    ...new Set((existing.data?.items ?? []).flatMap((g) => [g.appGroup, g.name]).filter((n): n is string => !!n)),
  ].sort((a, b) => a.localeCompare(b));
  const allTypes = Object.keys(GROUP_TYPE_LABELS) as (keyof typeof GROUP_TYPE_LABELS)[];
  const chosen = types ?? allTypes;
  return (
    <>
      <Choice
        legend="Which Entra groups become directory groups"
        name="group-sync"
        value={(getIn(settings, ['groups', 'sync']) as 'all' | 'scope' | 'none' | undefined) ?? 'all'}
        options={[
          ['all', 'All groups'],
          ['scope', 'Only the groups that decide who is synced (and the groups nested in them)'],
          ['none', 'None (only the groups mapped below)'],
        ]}
        onChange={(v) => set(['groups', 'sync'], v === 'all' ? undefined : v)}
      />
      <fieldset>
        <legend>Group types</legend>
        {allTypes.map((t) => (
          <label key={t} className="inline">
            <input
              type="checkbox"
              checked={chosen.includes(t)}
              onChange={() => {
                const next = chosen.includes(t) ? chosen.filter((x) => x !== t) : [...chosen, t];
                set(['groups', 'types'], next.length === allTypes.length ? undefined : next);
              }}
            />{' '}
            {GROUP_TYPE_LABELS[t]}
          </label>
        ))}
      </fieldset>
      <label className="inline">
        <input
          type="checkbox"
          checked={(getIn(settings, ['departments', 'sync']) as boolean | undefined) ?? true}
          onChange={(e) => set(['departments', 'sync'], e.target.checked ? undefined : false)}
        />{' '}
        Sync departments (one per distinct department name)
      </label>
      <FieldErrors problem={problem} field="settings.groups" />
      <h3>Map Entra groups onto app groups</h3>
      <p className="hint">
        The members of a mapped Entra group are synced onto the app group you name (several may map onto one).
      </p>
      {Object.keys(map).length > 0 && (
        <table>
          <caption className="visually-hidden">Entra groups mapped onto app groups</caption>
          <thead>
            <tr>
              <th scope="col">Entra group</th>
              <th scope="col">App group</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(map).map(([groupId, appGroup]) => (
              <tr key={groupId}>
                <th scope="row">{names.get(groupId)?.displayName ?? groupId}</th>
                <td>
                  <input
                    aria-label={`App group for ${names.get(groupId)?.displayName ?? groupId}`}
                    list="app-groups"
                    value={appGroup}
                    onChange={(e) => set(['groups', 'map', groupId], e.target.value)}
                  />
                  <FieldErrors problem={problem} field={`settings.groups.map.${groupId}`} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <datalist id="app-groups">
        {appGroups.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
      <GroupPicker
        connectionId={connectionId}
        label="Find Entra groups to map"
        selected={Object.keys(map)}
        onChange={(ids) => {
          const next: Record<string, string> = {};
          for (const g of ids) next[g] = map[g] ?? names.get(g)?.displayName ?? '';
          set(['groups', 'map'], ids.length ? next : undefined);
        }}
      />
    </>
  );
}

export function LifecycleStep({ settings, set, problem }: StepProps) {
  const number = (path: string[], raw: string) => set(path, raw === '' ? undefined : Number(raw));
  return (
    <>
      <Choice
        legend="When a user leaves Entra or the scope"
        name="on-leave"
        value={(getIn(settings, ['lifecycle', 'onLeave']) as 'disable' | 'remove' | 'ignore' | undefined) ?? 'disable'}
        options={[
          ['disable', 'Disable their account (recommended: nothing is lost)'],
          ['remove', 'Remove their account'],
          ['ignore', 'Leave their account as it is'],
        ]}
        onChange={(v) => set(['lifecycle', 'onLeave'], v === 'disable' ? undefined : v)}
      />
      <Choice
        legend="Accounts already in the app"
        name="existing"
        value={(getIn(settings, ['lifecycle', 'existingUsers']) as 'update' | 'skip' | undefined) ?? 'update'}
        options={[
          ['update', 'Update them from Entra'],
          ['skip', 'Leave them as they are (only new users are created)'],
        ]}
        onChange={(v) => set(['lifecycle', 'existingUsers'], v === 'update' ? undefined : v)}
      />
      <label className="inline">
        <input
          type="checkbox"
          checked={(getIn(settings, ['lifecycle', 'removeUnmanagedMemberships']) as boolean | undefined) ?? false}
          onChange={(e) => set(['lifecycle', 'removeUnmanagedMemberships'], e.target.checked || undefined)}
        />{' '}
        Remove app group memberships that Entra does not have
      </label>
      <FieldErrors problem={problem} field="settings.lifecycle" />
      <h3>Deletion threshold</h3>
      <p className="hint">
        A run that would disable or remove more users than this holds them for your approval instead.
      </p>
      <div className="row">
        <div>
          <label htmlFor="threshold-count">Users (default 500)</label>
          <input
            id="threshold-count"
            type="number"
            min={0}
            value={String(getIn(settings, ['safety', 'deletionThreshold', 'count']) ?? '')}
            onChange={(e) => number(['safety', 'deletionThreshold', 'count'], e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="threshold-percent">Percent of users (default 10)</label>
          <input
            id="threshold-percent"
            type="number"
            min={0}
            max={100}
            value={String(getIn(settings, ['safety', 'deletionThreshold', 'percent']) ?? '')}
            onChange={(e) => number(['safety', 'deletionThreshold', 'percent'], e.target.value)}
          />
        </div>
      </div>
      <FieldErrors problem={problem} field="settings.safety" />
    </>
  );
}

export function EmailsStep({ settings, set, problem }: StepProps) {
  const to = (getIn(settings, ['email', 'reports', 'to']) as string[] | undefined) ?? [];
  const on = (getIn(settings, ['email', 'reports', 'on']) as string[] | undefined) ?? [];
  const [toText, setToText] = useState(to.join('\n'));
  const setReports = (nextTo: string[], nextOn: string[]) =>
    set(
      ['email', 'reports'],
      nextTo.length === 0 && nextOn.length === 0 ? undefined : { to: nextTo, ...(nextOn.length ? { on: nextOn } : {}) },
    );
  const text = (path: string[]) => (getIn(settings, path) as string | undefined) ?? '';
  return (
    <>
      <label htmlFor="from">Sender</label>
      <input
        id="from"
        value={text(['email', 'from'])}
        placeholder="usersync <noreply@example.com>"
        onChange={(e) => set(['email', 'from'], e.target.value || undefined)}
      />
      <FieldErrors problem={problem} field="settings.email.from" />
      <h3>Welcome mail</h3>
      <label className="inline">
        <input
          type="checkbox"
          checked={(getIn(settings, ['email', 'welcome', 'enabled']) as boolean | undefined) ?? false}
          onChange={(e) => set(['email', 'welcome', 'enabled'], e.target.checked || undefined)}
        />{' '}
        Send a welcome mail to each user a sync creates
      </label>
      <label htmlFor="welcome-subject">Subject</label>
      <input
        id="welcome-subject"
        value={text(['email', 'welcome', 'subject'])}
        placeholder="Welcome, {{firstName}}"
        onChange={(e) => set(['email', 'welcome', 'subject'], e.target.value || undefined)}
      />
      <label htmlFor="welcome-text">Text ({'{{field}}'} inserts a directory field)</label>
      <textarea
        id="welcome-text"
        rows={4}
        value={text(['email', 'welcome', 'text'])}
        onChange={(e) => set(['email', 'welcome', 'text'], e.target.value || undefined)}
      />
      <FieldErrors problem={problem} field="settings.email.welcome" />
      <h3>Reports to administrators</h3>
      <label htmlFor="reports-to">Send to (one address per line)</label>
      <textarea
        id="reports-to"
        rows={2}
        value={toText}
        onChange={(e) => {
          setToText(e.target.value);
          setReports(parseList(e.target.value), on);
        }}
      />
      <fieldset>
        <legend>When</legend>
        {[
          ['failed', 'a run fails'],
          ['held', 'leavers are held by the deletion threshold'],
          ['testSync', 'a test sync ends (with its changes)'],
        ].map(([v, label]) => (
          <label key={v} className="inline">
            <input
              type="checkbox"
              checked={on.includes(v)}
              onChange={() => setReports(to, on.includes(v) ? on.filter((x) => x !== v) : [...on, v])}
            />{' '}
            {label}
          </label>
        ))}
      </fieldset>
      <FieldErrors problem={problem} field="settings.email.reports" />
    </>
  );
}
