import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { PROFILE_FIELDS } from '../core/directory.ts';
import { closest } from '../core/suggest.ts';
import {
  addAppMemberships,
  appendAudit,
  transaction,
  upsertUsers,
  usersWithLoginAccounts,
  type AppMembership,
  type DirectoryUserInput,
} from '../store/index.ts';
import { connectionOption, ExitError, whoAmI } from './options.ts';
import { withStore } from './store.ts';

// `usersync users import FILE|-`: accounts that did not come from Entra (an application's existing users), from CSV
// (a header row of field names) or JSON (an array of objects), with the field names of `users list`. They are kept as
// `local` accounts; the next sync matches Entra users to them by lifecycle.matching and adopts them instead of creating
// duplicates. The whole file is checked first: one bad row changes nothing.

const INVALID = 2;

const row = z.strictObject(
  Object.fromEntries([
    // The app groups the account is in (not from Entra): names separated by ";".
    [
      'groups',
      z
        .string({ error: 'must be app group names separated by ";"' })
        .transform((v) =>
          v
            .split(';')
            .map((g) => g.trim())
            .filter(Boolean),
        )
        .nullish(),
    ],
    ...PROFILE_FIELDS.map((f) => [
      f,
      f === 'loginAccount'
        ? z
            .string({ error: "is required: the account's login (the user principal name it will match)" })
            .trim()
            .min(1, {
              error: "is required: the account's login (the user principal name it will match)",
            })
        : z
            .union([z.string(), z.number()], { error: 'must be text' })
            .transform((v) => String(v).trim() || null)
            .nullish(),
    ]),
  ]) as Record<string, z.ZodType>,
);

export function importCommand(users: Command): void {
  connectionOption(users.command('import'))
    .description(
      'Add accounts that did not come from Entra (CSV with a header row, or a JSON array, with the field names of `users list`); a sync then adopts the ones that match an Entra user (lifecycle.matching) instead of creating duplicates.',
    )
    .argument('<file>', 'the CSV or JSON file, or - for standard input')
    .action(async (file: string, flags: { connection: string }) => {
      const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
      const records = parseRecords(text);
      const issues: string[] = [];
      const accounts: DirectoryUserInput[] = [];
      const memberships: AppMembership[] = [];
      records.forEach((record, i) => {
        for (const key of Object.keys(record)) {
          if (!(PROFILE_FIELDS as readonly string[]).includes(key) && key !== 'groups') {
            const near = closest(key, [...PROFILE_FIELDS, 'groups']);
            issues.push(
              `row ${i + 1}: unknown field "${key}"${near ? `; did you mean "${near}"?` : `; the fields are ${PROFILE_FIELDS.join(', ')}`}`,
            );
            delete record[key];
          }
        }
        const result = row.safeParse(record);
        if (!result.success) {
          for (const issue of result.error.issues)
            issues.push(`row ${i + 1}: ${issue.path.join('.') || 'row'} ${issue.message}`);
          return;
        }
        const v = result.data as Record<string, string | null>;
        for (const appGroup of (result.data.groups as string[] | null | undefined) ?? [])
          memberships.push({ appGroup, memberId: `local:${v.loginAccount!.toLowerCase()}` });
        accounts.push({
          external_id: `local:${v.loginAccount!.toLowerCase()}`,
          login_account: v.loginAccount!,
          name: v.name ?? null,
          email: v.email ?? null,
          first_name: v.firstName ?? null,
          last_name: v.lastName ?? null,
          user_type: v.userType ?? null,
          job_title: v.jobTitle ?? null,
          department: v.department ?? null,
          manager_external_id: null,
          country: v.country ?? null,
          office_location: v.officeLocation ?? null,
          city: v.city ?? null,
          mobile_phone: v.mobilePhone ?? null,
          postal_code: v.postalCode ?? null,
          company_name: v.companyName ?? null,
          employee_no: v.employeeNo ?? null,
          fax_number: v.faxNumber ?? null,
          account_enabled: true,
          source_state: 'local',
          status: 'active',
          fingerprint: '',
        });
      });
      if (issues.length > 0) {
        for (const issue of issues.slice(0, 50)) process.stderr.write(`${issue}\n`);
        throw new ExitError(
          `the file is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'} above); nothing was imported.`,
          INVALID,
        );
      }
      await withStore(async (store) => {
        // An account Entra already gives the directory is not imported again (it would be a duplicate).
        const synced = await usersWithLoginAccounts(
          store.db,
          flags.connection,
          accounts.map((a) => a.login_account!),
        );
        const fresh = accounts.filter(
          (a) => !synced.get(a.login_account!.toLowerCase())?.some((h) => !h.id.startsWith('local:')),
        );
        const skipped = accounts.length - fresh.length;
        await transaction(store, async (trx) => {
          await upsertUsers(trx, flags.connection, fresh);
          const imported = new Set(fresh.map((a) => a.external_id));
          await addAppMemberships(
            trx,
            flags.connection,
            memberships.filter((m) => imported.has(m.memberId)),
          );
          await appendAudit(
            trx,
            flags.connection,
            fresh.map((a) => ({ objectType: 'user', objectId: a.external_id, action: 'imported' })),
            { runId: null, actor: whoAmI() },
          );
        });
        process.stdout.write(
          `Imported ${fresh.length} account${fresh.length === 1 ? '' : 's'} that did not come from Entra${skipped ? `; ${skipped} skipped, already synced from Entra` : ''}. The next sync adopts those an Entra user matches (lifecycle.matching).\n`,
        );
      });
    });
}

function parseRecords(text: string): Record<string, unknown>[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new ExitError(`the file is not valid JSON: ${(error as Error).message}`, INVALID);
    }
    if (!Array.isArray(value) || value.some((r) => typeof r !== 'object' || r === null || Array.isArray(r)))
      throw new ExitError('a JSON file must be an array of objects, one per account', INVALID);
    return value as Record<string, unknown>[];
  }
  try {
    return parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, unknown>[];
  } catch (error) {
    throw new ExitError(`the file is not valid CSV: ${(error as Error).message}`, INVALID);
  }
}
