import { Command } from 'commander';
import { emulatorCommand } from './emulator.ts';

// The usersync command line. The contract (commands, flags, JSON shapes) is documented in the README.

export function buildProgram(): Command {
  const program = new Command('usersync')
    .description('Keeps an application user directory in step with Microsoft Entra ID.')
    .showHelpAfterError();
  emulatorCommand(program);
  return program;
}

export async function run(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
  } catch (error) {
    process.stderr.write(`usersync: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
