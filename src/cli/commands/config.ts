/**
 * flowsieve config --print: the settings detect and serve would run with, each with where
 * it came from (flag, FLOWSIEVE_* variable, --config file, default), as YAML that can be
 * used as a --config file (or as JSON with --json).
 */
import { stringify } from 'yaml';
import { parseArgs, UsageError, type CommandSpec, type Parsed, type Source } from '../../app/args.js';
import { checkOptions } from '../../app/option-rules.js';
import { layersFor } from '../../app/config.js';
import { spec as detectSpec } from './detect.js';
import { spec as serveSpec } from './serve.js';

const SHOWN: Record<string, CommandSpec> = { detect: detectSpec, serve: serveSpec };

export const spec: CommandSpec = {
  name: 'config',
  summary: 'show the effective settings of detect and serve (flags, FLOWSIEVE_* variables, --config file, defaults)',
  usage: 'flowsieve config --print [--command detect|serve] [--config FILE] [--json]',
  options: [
    { name: 'print', type: 'boolean', help: 'print the effective settings' },
    { name: 'command', type: 'string', help: 'only this command (default: detect and serve)', value: 'NAME' },
    { name: 'json', type: 'boolean', help: 'JSON instead of YAML' },
  ],
};

function describe(source: Source | undefined): string {
  if (!source) return 'not set';
  return source.kind === 'env' || source.kind === 'file' ? `${source.kind} ${source.where}` : source.kind;
}

/** One command's effective settings: values and sources, options without a value left out of the values. */
export function effective(command: string, config: string | undefined, env: Record<string, string | undefined>): { values: Record<string, unknown>; sources: Record<string, string> } {
  const s = SHOWN[command]!;
  const parsed: Parsed = parseArgs(s, [], layersFor(command, config, env));
  checkOptions(s, parsed);
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const o of s.options) {
    if (parsed.values[o.name] !== undefined) values[o.name] = parsed.values[o.name];
    sources[o.name] = describe(parsed.sources[o.name]);
  }
  return { values, sources };
}

export async function run(args: Parsed, context: { config?: string } = {}): Promise<number> {
  const v = args.values;
  if (!v.print) throw new UsageError('config needs --print (see flowsieve config --help)');
  if (args.positionals.length) throw new UsageError(`config takes no arguments, got '${args.positionals[0]}'`);
  const names = v.command === undefined ? Object.keys(SHOWN) : [String(v.command)];
  for (const n of names) if (!SHOWN[n]) throw new UsageError(`--command must be one of ${Object.keys(SHOWN).join(', ')}, got '${n}'`);
  const result = Object.fromEntries(names.map((n) => [n, effective(n, context.config, process.env)]));
  if (v.json) {
    process.stdout.write(JSON.stringify({ config: context.config ?? null, ...result }, null, 2) + '\n');
    return 0;
  }
  const lines = [`# flowsieve effective settings (flags > FLOWSIEVE_* variables > ${context.config ?? 'no --config file'} > defaults)`];
  for (const [n, r] of Object.entries(result)) {
    lines.push(`${n}:`);
    for (const o of SHOWN[n]!.options) {
      const value = r.values[o.name];
      const text = value === undefined ? `# ${o.name}:` : `${o.name}: ${stringify(value, { collectionStyle: 'flow' }).trim()}`;
      const def = value === undefined && o.defaultText ? ` (${o.defaultText})` : '';
      lines.push(`  ${text.padEnd(44)} # ${r.sources[o.name]}${def}`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
