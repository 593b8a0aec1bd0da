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
  /** The default as help shows it, where the value depends on other options (--profile). */
  defaultText?: string;
  value?: string; // placeholder in help
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec[];
}

export class UsageError extends Error {}

/** Where an option's value came from: the flag, a FLOWSIEVE_* variable, a --config file, or the default. */
export type Source = { kind: 'flag' | 'default' } | { kind: 'env' | 'file'; where: string };

export type Value = string | number | boolean | string[] | undefined;
export type Parsed = {
  positionals: string[];
  values: Record<string, Value>;
  /** Each option that has a value: where it came from (absent: neither given nor defaulted). */
  sources: Record<string, Source>;
};

/** The settings under the flags: a --config file's keys (already picked for the command) and the environment. */
export interface Layers {
  file?: { path: string; values: Record<string, unknown> };
  env?: Record<string, string | undefined>;
}

/** FLOWSIEVE_MIN_ENDPOINTS for --min-endpoints. */
export function envName(option: string): string {
  return `FLOWSIEVE_${option.toUpperCase().replace(/-/g, '_')}`;
}

/** A value of a config file or variable (text, or YAML's numbers, booleans and lists) as the option's type. */
function fromSetting(o: OptionSpec, raw: unknown, where: string): Value {
  const bad = (what: string) => new UsageError(`${where} must be ${what}, got '${Array.isArray(raw) ? raw.join(',') : String(raw)}'`);
  if (o.type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (/^(1|true|yes|on)$/i.test(String(raw))) return true;
    if (/^(0|false|no|off)$/i.test(String(raw))) return false;
    throw bad('true or false');
  }
  if (o.type === 'size') {
    if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
    try {
      return parseSize(String(raw));
    } catch {
      throw bad('a size such as 512M or 2G');
    }
  }
  if (o.type === 'number') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(n)) throw bad('a number');
    return n;
  }
  if (o.type === 'list') {
    const items = Array.isArray(raw) ? raw : String(raw).split(',');
    if (!items.every((x) => typeof x === 'string' || typeof x === 'number')) throw bad('a list of texts');
    return items.map(String);
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') throw bad('a text');
  return String(raw);
}

/**
 * The command's values: defaults, then the --config file, then FLOWSIEVE_* variables, then
 * the flags (each layer wins over the ones before). A flag equal to its default is still
 * given (sources says so).
 */
export function parseArgs(spec: CommandSpec, argv: string[], layers: Layers = {}): Parsed {
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const values: Parsed['values'] = {};
  const sources: Parsed['sources'] = {};
  for (const o of spec.options) {
    if (o.default === undefined) continue;
    values[o.name] = o.default;
    sources[o.name] = { kind: 'default' };
  }
  for (const o of spec.options) {
    const file = layers.file;
    if (file && file.values[o.name] !== undefined && file.values[o.name] !== null) {
      const where = `${file.path}: '${o.name}'`;
      values[o.name] = fromSetting(o, file.values[o.name], where);
      sources[o.name] = { kind: 'file', where: file.path };
    }
    const env = layers.env?.[envName(o.name)];
    if (env !== undefined && env !== '') {
      values[o.name] = fromSetting(o, env, `${envName(o.name)} (--${o.name})`);
      sources[o.name] = { kind: 'env', where: envName(o.name) };
    }
  }
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
    const repeated = sources[name]?.kind === 'flag';
    sources[name] = { kind: 'flag' };
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
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) throw new UsageError(`option --${name} needs a number, got '${raw}'`);
      values[name] = n;
    } else if (o.type === 'list') {
      // repeated flags add up; the first replaces what the file or environment said
      const prev = repeated ? values[name] : undefined;
      values[name] = [...(Array.isArray(prev) ? prev : []), ...raw.split(',')];
    } else {
      values[name] = raw;
    }
  }
  return { positionals, values, sources };
}

export function helpText(spec: CommandSpec): string {
  const lines = [`flowsieve ${spec.name}: ${spec.summary}`, '', `usage: ${spec.usage}`, '', 'options:'];
  for (const o of spec.options) {
    const flag = `--${o.name}${o.type === 'boolean' ? '' : ` ${o.value ?? (o.type === 'number' ? 'N' : o.type === 'size' ? 'SIZE' : 'VALUE')}`}`;
    const shown = o.defaultText ?? (o.default !== undefined && o.default !== false ? String(o.default) : undefined);
    const def = shown !== undefined ? ` (default ${shown})` : '';
    lines.push(`  ${flag.padEnd(28)} ${o.help}${def}`);
  }
  lines.push(`  ${'--config FILE'.padEnd(28)} settings from a YAML or JSON file (flags > FLOWSIEVE_* variables > file > defaults)`);
  lines.push(`  ${'--log-format text|json'.padEnd(28)} how messages on stderr are written (default text)`);
  lines.push(`  ${'--help'.padEnd(28)} this text`);
  lines.push('', `Every option can also be set as a variable: --min-endpoints 5 is ${envName('min-endpoints')}=5.`);
  return lines.join('\n');
}
