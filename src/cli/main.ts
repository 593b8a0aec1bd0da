#!/usr/bin/env node
/** flowsieve command line: one module per command under commands/. */
import { helpText, parseArgs, UsageError, type CommandSpec, type Parsed } from './args.js';
import * as detect from './commands/detect.js';
import * as convert from './commands/convert.js';
import * as filter from './commands/filter.js';
import * as history from './commands/history.js';
import * as exportLists from './commands/export.js';
import * as report from './commands/report.js';
import * as generate from './commands/generate.js';
import * as serve from './commands/serve.js';
import * as merge from './commands/merge.js';
import * as cluster from './commands/cluster.js';


interface Command {
  spec: CommandSpec;
  run(args: Parsed): Promise<number>;
  /** A command group (cluster): `flowsieve cluster submit ...`; the subcommands' names include the group's. */
  subcommands?: Command[];
}

const COMMANDS: Command[] = [detect, convert, serve, generate, filter, history, exportLists, report, merge, cluster];

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
  let cmd = COMMANDS.find((c) => c.spec.name === name);
  if (!cmd) {
    process.stderr.write(`flowsieve: unknown command '${name}'\n\n${usage()}\n`);
    return 1;
  }
  if (cmd.subcommands) {
    const group = cmd;
    const sub = group.subcommands!.find((c) => c.spec.name === `${name} ${rest[0]}`);
    if (!sub) {
      const list = group.subcommands!.map((c) => `  ${c.spec.name.padEnd(18)} ${c.spec.summary}`).join('\n');
      const help = rest[0] === undefined || rest[0] === '--help' || rest[0] === '-h';
      (help ? process.stdout : process.stderr).write(
        `${help ? '' : `flowsieve: unknown subcommand '${name} ${rest[0]}'\n\n`}usage: ${group.spec.usage}\n\n${list}\n`,
      );
      return help && rest[0] !== undefined ? 0 : 1;
    }
    cmd = sub;
    rest.shift();
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
