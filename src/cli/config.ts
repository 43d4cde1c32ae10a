import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { validateSettings, type SettingsIssue } from '../core/settings.ts';
import { getSettings, listSettingsVersions, saveSettings } from '../store/index.ts';
import { connectionOption, ExitError, whoAmI } from './options.ts';
import { withStore } from './store.ts';

// `usersync config show|set|validate`: the connection's settings document (docs/settings.md). `set` validates the
// whole document first; an invalid one changes nothing, prints every problem as `path: message` and exits 2.

const INVALID_EXIT_CODE = 2;

export function configCommands(program: Command): void {
  const config = program
    .command('config')
    .description("The connection's settings document: who is synced and what each field becomes.");

  connectionOption(config.command('show'))
    .description(
      'Print the settings (YAML; {} when never set), or with --history every version: who changed it and when.',
    )
    .option('--json', 'print JSON')
    .option('--history', 'every version, newest first')
    .action(async (flags: { json?: boolean; history?: boolean; connection: string }) =>
      withStore(
        async (store) => {
          if (flags.history) {
            const versions = await listSettingsVersions(store.db, flags.connection);
            if (flags.json) {
              process.stdout.write(`${JSON.stringify(versions)}\n`);
              return;
            }
            if (versions.length === 0)
              process.stdout.write(
                `The settings of connection "${flags.connection}" were never set: the defaults apply.\n`,
              );
            versions.forEach((v, i) => {
              const changed = changedKeys(versions[i + 1]?.document ?? {}, v.document);
              process.stdout.write(
                `version ${v.version}  ${v.changedAt}  ${v.changedBy}  ${changed.length > 0 ? `changed ${changed.join(', ')}` : 'no change'}\n`,
              );
            });
            return;
          }
          const current = await getSettings(store.db, flags.connection);
          const document = current?.document ?? {};
          process.stdout.write(
            flags.json
              ? `${JSON.stringify(document)}\n`
              : Object.keys(document).length === 0
                ? '{}\n'
                : toYaml(document),
          );
        },
        { create: false },
      ),
    );

  connectionOption(config.command('set'))
    .description(
      'Replace the settings with a JSON or YAML document from FILE, or - for standard input. Validated first: an invalid document changes nothing (exit 2).',
    )
    .argument('<file>', 'the settings document, or - to read standard input')
    .action(async (file: string, flags: { connection: string }) => {
      const document = readDocument(file);
      const result = validateSettings(document);
      if (!result.ok) throw invalid(result.issues);
      await withStore(async (store) => {
        const { saved, version } = await saveSettings(
          store.db,
          flags.connection,
          document as Record<string, unknown>,
          whoAmI(),
        );
        process.stdout.write(
          saved
            ? `Saved the settings of connection "${flags.connection}" as version ${version.version}.\n`
            : `The settings of connection "${flags.connection}" are already this document (version ${version.version}); nothing changed.\n`,
        );
        if (saved)
          process.stdout.write(
            'The next `usersync sync` applies them to every user from what the store holds (no new read from Entra unless they need Graph properties not read before); `usersync preview UPN` shows one user now.\n',
          );
      });
    });

  connectionOption(config.command('validate'))
    .description(
      'Check a JSON or YAML settings document from FILE (or - for standard input) without saving it; every problem is printed as path: message (exit 2).',
    )
    .argument('<file>', 'the settings document, or - to read standard input')
    .action(async (file: string) => {
      const result = validateSettings(readDocument(file));
      if (!result.ok) throw invalid(result.issues);
      process.stdout.write('The settings are valid.\n');
    });
}

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ExitError(
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)}; give the path of a JSON or YAML settings document, or - for standard input.`,
      INVALID_EXIT_CODE,
    );
  }
  if (text.trim() === '')
    throw new ExitError(
      `${file === '-' ? 'standard input' : file} is empty: write a settings document, or {} for the defaults.`,
      INVALID_EXIT_CODE,
    );
  try {
    return parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new ExitError(
      `${file === '-' ? 'standard input' : file} is not JSON or YAML: ${(error as Error).message.split('\n')[0].replace(/:$/, '')}`,
      INVALID_EXIT_CODE,
    );
  }
}

/** Prints every problem on its own line (`path: message`) and returns the error that ends the command. */
function invalid(issues: SettingsIssue[]): ExitError {
  for (const issue of issues) process.stderr.write(`${issue.path}: ${issue.message}\n`);
  return new ExitError(
    `the settings are invalid (${issues.length} problem${issues.length === 1 ? '' : 's'} above); nothing was changed.`,
    INVALID_EXIT_CODE,
  );
}

/** The top-level keys (and their first level) whose value differs between two documents. */
function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = (before[key] ?? {}) as Record<string, unknown>;
    const b = (after[key] ?? {}) as Record<string, unknown>;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const inner = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
      (k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]),
    );
    out.push(...(inner.length > 0 ? inner.map((k) => `${key}.${k}`) : [key]));
  }
  return out;
}
