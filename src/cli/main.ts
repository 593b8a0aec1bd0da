#!/usr/bin/env node
/** flowsieve command line: one module per command under commands/. */
import { helpText, parseArgs, UsageError, type CommandSpec, type Parsed } from './args.js';
import * as detect from './commands/detect.js';
import * as merge from './commands/merge.js';


interface Command {
  spec: CommandSpec;
  run(args: Parsed): Promise<number>;
}

const COMMANDS: Command[] = [detect, merge];

function usage(): string {
  return [
    'flowsieve: find internet scanners in cloud flow logs',
    '',
    'usage: flowsieve <command> [options]   (flowsieve <command> --help for its options)',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(10)} ${c.spec.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 1;
  }
  const cmd = COMMANDS.find((c) => c.spec.name === name);
  if (!cmd) {
    process.stderr.write(`flowsieve: unknown command '${name}'\n\n${usage()}\n`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText(cmd.spec) + '\n');
    return 0;
  }
  try {
    return await cmd.run(parseArgs(cmd.spec, rest));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`flowsieve ${name}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`flowsieve ${name}: ${(err as Error).stack ?? err}\n`);
    return 3;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
