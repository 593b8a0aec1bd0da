#!/usr/bin/env node
/** flowsieve command line: one module per command under commands/. */
import { helpText, parseArgs, UsageError } from '../app/args.js';
import { takeGlobalOptions } from '../app/global-options.js';
import { setLogFormat } from './log.js';
import { COMMAND_INDEX } from './command-index.js';
import { launchLoneShard } from '../engine/lone-shard.js';
import { readFileSync } from 'node:fs';

/** The installed package's version (package.json sits two folders above dist/src/cli/). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  return [
    'flowsieve: find internet scanners in cloud flow logs',
    '',
    'usage: flowsieve <command> [options]   (flowsieve <command> --help for its options)',
    '       flowsieve --version',
    '',
    'commands:',
    ...COMMAND_INDEX.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  let rest: string[];
  let config: string | undefined;
  try {
    ({ rest, config } = takeGlobalOptions(args, process.env));
    setLogFormat(takeGlobalOptions(args, process.env).logFormat, name ?? 'flowsieve');
  } catch (err) {
    process.stderr.write(`flowsieve ${name}: ${(err as Error).message}\n`);
    return 1;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`flowsieve ${version()}\n`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 1;
  }
  const entry = COMMAND_INDEX.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`flowsieve: unknown command '${name}'\n\n${usage()}\n`);
    return 1;
  }
  // detect on a folder of GCP exports: its lone shard's thread boots while detect's modules
  // load and it plans (engine/lone-shard.ts). Imported statically (a few small modules): a
  // dynamic import's load would run after detect's own, which is queued beside it
  if (name === 'detect') launchLoneShard(rest); // a guess: detect starts its own threads where this did not
  // the option rules and the config file reader (every format's name, the YAML parser's
  // loader) only for a command: --version and the usage start without them
  const rules = Promise.all([import('../app/option-rules.js'), import('../app/config.js')]);
  rules.catch(() => {}); // awaited below
  let cmd = await entry.load();
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
    const [{ checkOptions }, { layersFor }] = await rules;
    const parsed = parseArgs(cmd.spec, rest, layersFor(cmd.spec.name, config, process.env));
    checkOptions(cmd.spec, parsed);
    return await cmd.run(parsed, { config });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`flowsieve ${name}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`flowsieve ${name}: ${(err as Error).stack ?? err}\n`);
    return 3;
  }
}

/**
 * Commands whose run has ended every piece of work once it returns (detect awaits its threads'
 * close and their code caches): the process ends then, not after Node has torn down the heap
 * and its handles, ~1-1.5 ms of a 100 ms run (bench/RESULTS.md, session 17, boot).
 */
const ENDS_WHEN_RETURNED = new Set(['detect']);

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // on Linux only, where writes to stdout and stderr (files, pipes, terminals) are synchronous:
  // elsewhere a pipe or a terminal may still hold text (asking the streams would create them,
  // ~3 ms for a pipe in a quiet run that never wrote one). process.exit still runs the 'exit'
  // handlers (the code caches of this thread).
  if (ENDS_WHEN_RETURNED.has(process.argv[2] ?? '') && process.platform === 'linux') process.exit(code);
});
