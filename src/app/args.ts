/**
 * A small, strict argument parser: every command declares its options (with help text
 * and defaults), unknown options are usage errors (exit 1), and --help is generated.
 */
import { parseSize } from './size.js';

export interface OptionSpec {
  name: string; // long name without dashes
  type: 'string' | 'number' | 'boolean' | 'list' | 'size'; // size: bytes, '512M', '2G' (src/app/size.ts)
  help: string;
  default?: string | number | boolean;
  value?: string; // placeholder in help
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec[];
}

export class UsageError extends Error {}

export type Parsed = { positionals: string[]; values: Record<string, string | number | boolean | string[] | undefined> };

export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const values: Parsed['values'] = {};
  for (const o of spec.options) if (o.default !== undefined) values[o.name] = o.default;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const o = byName.get(name);
    if (!o) throw new UsageError(`unknown option --${name} for '${spec.name}' (see flowsieve ${spec.name} --help)`);
    if (o.type === 'boolean') {
      values[name] = eq < 0 ? true : !/^(false|0|no)$/i.test(a.slice(eq + 1));
      continue;
    }
    const raw = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`option --${name} needs a value`);
    if (o.type === 'size') {
      try {
        values[name] = parseSize(raw, name);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    } else if (o.type === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new UsageError(`option --${name} needs a number, got '${raw}'`);
      values[name] = n;
    } else if (o.type === 'list') {
      const prev = values[name];
      values[name] = [...(Array.isArray(prev) ? prev : []), ...raw.split(',')];
    } else {
      values[name] = raw;
    }
  }
  return { positionals, values };
}

export function helpText(spec: CommandSpec): string {
  const lines = [`flowsieve ${spec.name}: ${spec.summary}`, '', `usage: ${spec.usage}`, '', 'options:'];
  for (const o of spec.options) {
    const flag = `--${o.name}${o.type === 'boolean' ? '' : ` ${o.value ?? (o.type === 'number' ? 'N' : o.type === 'size' ? 'SIZE' : 'VALUE')}`}`;
    const def = o.default !== undefined && o.default !== false ? ` (default ${o.default})` : '';
    lines.push(`  ${flag.padEnd(28)} ${o.help}${def}`);
  }
  lines.push(`  ${'--help'.padEnd(28)} this text`);
  return lines.join('\n');
}
