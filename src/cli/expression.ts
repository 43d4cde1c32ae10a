import type { Command } from 'commander';
import { connectionOption } from './options.ts';
import { loadConnectionConfig } from '../config/env.ts';
import {
  compileExpression,
  ExpressionError,
  expressionAnswer,
  type CompiledExpression,
} from '../core/expression/index.ts';
import { graphSelect } from '../core/mapping.ts';
import { connectGraph } from '../sync/connect.ts';
import { answerLines, lineInput } from './ndjson.ts';

// `usersync expression`: try an expression of Entra's mapping language against a user object, a user read live from
// Graph, or many {expression, input} lines at once (NDJSON, for checking the language against Microsoft's examples).

export function expressionCommand(program: Command): void {
  // --connection is accepted as on every command; an expression does not depend on the connection.
  connectionOption(program.command('expression'))
    .description(
      'Evaluate a mapping expression against a Graph user object and print {"value": …}; with - read NDJSON lines {"expression","input"} from stdin.',
    )
    .argument('<expression>', 'the expression, e.g. \'Join(" ", [givenName], [surname])\', or - for NDJSON on stdin')
    .option('--input <json>', 'the Graph user object to evaluate against, as JSON')
    .option('--user <upnOrId>', 'read the user from Graph (the AZURE_* variables) and evaluate against it')
    .action(async (expression: string, flags: { input?: string; user?: string }) => {
      if (expression === '-') {
        if (flags.input !== undefined || flags.user !== undefined)
          throw new Error(
            '--input and --user go with one expression; with - each NDJSON line carries its own "input".',
          );
        await evaluateLines();
        return;
      }
      if (flags.input !== undefined && flags.user !== undefined) throw new Error('give --input or --user, not both.');
      const compiled = compileOrExplain(expression);
      const input = flags.user !== undefined ? await readUser(flags.user, compiled) : parseInput(flags.input);
      process.stdout.write(`${JSON.stringify(evaluate(compiled, input))}\n`);
    });
}

function compileOrExplain(expression: string): CompiledExpression {
  try {
    return compileExpression(expression);
  } catch (error) {
    throw new Error(`expression: ${(error as Error).message}`);
  }
}

function evaluate(compiled: CompiledExpression, input: Record<string, unknown>): ReturnType<typeof expressionAnswer> {
  try {
    return expressionAnswer(compiled, input);
  } catch (error) {
    if (error instanceof ExpressionError) throw new Error(`expression: ${error.message}`);
    throw error;
  }
}

function parseInput(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `--input is not JSON (${(error as Error).message}): give a Graph user object such as '{"givenName":"Ada","surname":"Lovelace"}'.`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('--input must be a JSON object (a Graph user), such as \'{"mail":"ada@contoso.com"}\'.');
  return parsed as Record<string, unknown>;
}

async function readUser(user: string, compiled: CompiledExpression): Promise<Record<string, unknown>> {
  const http = connectGraph(loadConnectionConfig());
  const response = await http.get(
    `/users/${encodeURIComponent(user)}?$select=${graphSelect(compiled.attributes).join(',')}`,
  );
  return response.json() as Record<string, unknown>;
}

/** One output line per input line, in order; a bad line answers {"error"} and the rest go on. */
async function evaluateLines(): Promise<void> {
  const cache = new Map<string, CompiledExpression | Error>();
  await answerLines('{"expression": "…", "input": {…}}', (fields, line) => {
    if (typeof fields.expression !== 'string') return { error: `line ${line}: "expression" must be a string` };
    const read = lineInput(fields, line);
    if ('error' in read) return read;
    let compiled = cache.get(fields.expression);
    if (compiled === undefined) {
      try {
        compiled = compileExpression(fields.expression);
      } catch (error) {
        compiled = error as Error;
      }
      cache.set(fields.expression, compiled);
    }
    if (compiled instanceof Error) return { error: compiled.message };
    try {
      return expressionAnswer(compiled, read.input);
    } catch (error) {
      if (error instanceof ExpressionError) return { error: error.message };
      throw error;
    }
  });
}
