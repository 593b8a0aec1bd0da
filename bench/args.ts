/** Command-line options of the bench scripts: `--name value` and `--name` flags. */

/** The value after `--name`, or undefined where it is not given. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The value after `--name`, or `def`. */
export const opt = (name: string, def: string): string => arg(name) ?? def;

/** Whether `--name` is given. */
export const flag = (name: string) => process.argv.includes(`--${name}`);

/** The number after `--name` (NaN where nothing follows it), or `def` where it is not given. */
export function numArg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
