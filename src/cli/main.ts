import { Command } from 'commander';
import { emulatorCommand } from './emulator.ts';
import { syncCommands } from './sync.ts';

// The usersync command line. The contract (commands, flags, JSON shapes) is documented in the README.

export function buildProgram(): Command {
  const program = new Command('usersync')
    .description('Keeps an application user directory in step with Microsoft Entra ID.')
    .showHelpAfterError();
  syncCommands(program);
  emulatorCommand(program);
  return program;
}

export async function run(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
  } catch (error) {
    // One line a person can act on; the messages of our own errors already name the fix.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`usersync: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exitCode = 1;
  }
}
