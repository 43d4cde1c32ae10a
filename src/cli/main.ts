import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { backupCommand } from './backup.ts';
import { configCommands } from './config.ts';
import { ExitError } from './options.ts';
import { emulatorCommand } from './emulator.ts';
import { expressionCommand } from './expression.ts';
import { previewCommand } from './preview.ts';
import { heldCommands } from './held.ts';
import { historyCommands } from './history.ts';
import { scopeCommands } from './scope.ts';
import { serviceCommands } from './serve.ts';
import { syncCommands } from './sync.ts';

// The usersync command line. The contract (commands, flags, JSON shapes) is documented in the README.

/** Exit code of a command line that could not be understood (an unknown option, a missing argument). */
export const USAGE_EXIT_CODE = 2;

export function buildProgram(): Command {
  const program = new Command('usersync')
    .description('Keeps an application user directory in step with Microsoft Entra ID.')
    .version(version(), '--version', 'print the version of usersync')
    // Usage mistakes come back as errors, printed by run() as one line; the usage itself only with --help.
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  syncCommands(program);
  configCommands(program);
  backupCommand(program);
  expressionCommand(program);
  scopeCommands(program);
  previewCommand(program);
  heldCommands(program);
  historyCommands(program);
  emulatorCommand(program);
  serviceCommands(program);
  return program;
}

export async function run(argv: string[]): Promise<void> {
  // A reader that stops early (`users list --json | head`) closes the pipe: that ends the command quietly, as in any Unix tool.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      if (error.exitCode === 0) return;
      // A command group without its subcommand (`usersync users`) has just printed its help: that says enough.
      if (error.code === 'commander.help') {
        process.exitCode = 1;
        return;
      }
      process.stderr.write(`usersync: ${usageLine(error, program, argv)}\n`);
      process.exitCode = USAGE_EXIT_CODE;
      return;
    }
    // One line a person can act on; the messages of our own errors already name the fix.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`usersync: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exitCode = error instanceof ExitError ? error.exitCode : 1;
  }
}

/** `error: unknown option '--ful'\n(Did you mean --full?)` → `unknown option '--ful'; did you mean `--full`?` */
function usageLine(error: CommanderError, program: Command, argv: string[]): string {
  const [first, ...rest] = error.message.replace(/^error:\s*/i, '').split('\n');
  const suggestion = /\(Did you mean (.+?)\?\)/.exec(rest.join(' '))?.[1];
  const text = first.trim().replace(/[.\s]+$/, '');
  if (suggestion) return `${text}; did you mean \`${suggestion}\`?`;
  // A bad flag value: our parsers' messages already name the flag and the allowed values.
  if (error.code === 'commander.invalidArgument') return text;
  return `${text}; \`${[program.name(), ...commandPath(program, argv), '--help'].join(' ')}\` lists what it takes`;
}

/** The (sub)command names at the start of argv that exist, e.g. ['users', 'list']. */
function commandPath(program: Command, argv: string[]): string[] {
  const path: string[] = [];
  let command = program;
  for (const word of argv) {
    const next = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) break;
    path.push(word);
    command = next;
  }
  return path;
}

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
}
