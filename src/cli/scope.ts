import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { connectionOption } from './options.ts';
import { graphUserAttributes } from '../core/expression/index.ts';
import { compileFilters, FiltersError } from '../core/scope/filters.ts';

// `usersync scope test -`: Entra's scoping filters tried on users, one NDJSON line each, as the contract gives it.

export function scopeCommands(program: Command): void {
  const scope = program.command('scope').description('Who is synced: try scoping filters.');
  // --connection is accepted as on every command; the filters come with each line.
  connectionOption(scope.command('test'))
    .description(
      'Read NDJSON lines {"filters": [[clause, …], …], "input": {…}} from stdin; print {"inScope": true|false} or {"error": "…"} for each.',
    )
    .argument('<source>', '- (standard input)')
    .action(async (source: string) => {
      if (source !== '-')
        throw new Error(
          `scope test reads NDJSON from standard input: pass - (got "${source}"), e.g. echo '{"filters":[[{"attribute":"department","operator":"EQUALS","value":"Sales"}]],"input":{"department":"Sales"}}' | usersync scope test -`,
        );
      let number = 0;
      for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
        number++;
        if (line.trim() === '') continue;
        process.stdout.write(`${JSON.stringify(answer(line, number))}\n`);
      }
    });
}

function answer(line: string, number: number): { inScope: boolean } | { error: string } {
  let request: { filters?: unknown; input?: unknown };
  try {
    request = JSON.parse(line);
  } catch (error) {
    return {
      error: `line ${number} is not JSON (${(error as Error).message}); each line is {"filters": [[…]], "input": {…}}`,
    };
  }
  const input = request?.input ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { error: `line ${number}: "input" must be a JSON object (a Graph user)` };
  try {
    return {
      inScope: compileFilters(request.filters ?? []).decide(graphUserAttributes(input as Record<string, unknown>)).in,
    };
  } catch (error) {
    if (error instanceof FiltersError) return { error: error.message };
    throw error;
  }
}
