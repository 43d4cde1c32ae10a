import { hostname, userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';

/** A commander parser for a bounded whole-number flag, with an error that names the flag and the range. */
export function integer(name: string, min: number, max: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return value;
  };
}

/** The `--connection NAME` every store command takes (DESIGN: one store holds many connections). */
export function connectionOption(command: Command): Command {
  return command.option(
    '--connection <name>',
    'the connection: its own settings, state, directory and history',
    connectionName,
    'default',
  );
}

function connectionName(raw: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(raw))
    throw new InvalidArgumentError(
      '--connection must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.',
    );
  return raw;
}

/** A failure whose exit code is not 1 (invalid settings exit 2, as the contract says). */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'ExitError';
    this.exitCode = exitCode;
  }
}

/** Who runs this command, for the settings history and the audit trail: `user@host (command line)`. */
export function whoAmI(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  return `${user}@${hostname()} (command line)`;
}
