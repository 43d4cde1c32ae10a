import type { Command } from 'commander';
import { answerLines, lineInput } from './ndjson.ts';
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
      await answerLines('{"filters": [[…]], "input": {…}}', (fields, line) => {
        const read = lineInput(fields, line);
        if ('error' in read) return read;
        try {
          return { inScope: compileFilters(fields.filters ?? []).decide(graphUserAttributes(read.input)).in };
        } catch (error) {
          if (error instanceof FiltersError) return { error: error.message };
          throw error;
        }
      });
    });
}
