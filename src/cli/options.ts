import { InvalidArgumentError } from 'commander';

/** A commander parser for a bounded whole-number flag, with an error that names the flag and the range. */
export function integer(name: string, min: number, max: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return value;
  };
}
