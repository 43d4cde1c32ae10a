import { createInterface } from 'node:readline';

// The NDJSON forms of the command line (`expression -`, `scope test -`): one JSON object per line in, one answer per
// line out, in order; a bad line answers {"error"} and the next lines go on.

/** Reads stdin line by line; `answer` gets each line's object, and its result is written as one JSON line. */
export async function answerLines(
  shape: string,
  answer: (fields: Record<string, unknown>, line: number) => unknown,
): Promise<void> {
  let number = 0;
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    number++;
    if (line.trim() === '') continue;
    let fields: Record<string, unknown>;
    try {
      fields = JSON.parse(line);
    } catch (error) {
      process.stdout.write(
        `${JSON.stringify({ error: `line ${number} is not JSON (${(error as Error).message}); each line is ${shape}` })}\n`,
      );
      continue;
    }
    process.stdout.write(`${JSON.stringify(answer(fields ?? {}, number))}\n`);
  }
}

/** A line's `input` (a Graph user object; {} when absent), or the error that answers the line. */
export function lineInput(
  fields: Record<string, unknown>,
  line: number,
): { input: Record<string, unknown> } | { error: string } {
  const input = fields.input ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { error: `line ${line}: "input" must be a JSON object (a Graph user)` };
  }
  return { input: input as Record<string, unknown> };
}
