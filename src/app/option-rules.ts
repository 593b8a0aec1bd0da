/**
 * What each command-line option accepts: one rule per option name (or `command:name` where
 * one command's option of that name means something else), checked for every value a
 * command gets from a flag, a FLOWSIEVE_* variable or a --config file. A bad value is a
 * usage error (exit 1) that names the option and what it allows. Adding an option: one
 * line in its command's spec and one line here (test/options.test.ts fails for an option
 * without a rule).
 */
import { statSync } from 'node:fs';
import { FINDING_FORMATS } from '../output/finding-names.js';
import { EXPORT_FORMATS } from './export-format-names.js';
import { UsageError, type CommandSpec, type OptionSpec, type Parsed, type Source } from './args.js';
import { checkWindow, parseDuration, PROFILES } from '../detect/rules.js';
import { supportedFormats } from '../formats/registry.js';
import { CLOUD_NAMES } from '../flow/types.js';
import { SHARD_BUCKETS } from '../flow/hash.js';

export type Rule =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number; aboveMin?: boolean }
  | { kind: 'choice'; of: () => readonly string[] }
  | { kind: 'text' } // any non-empty text (names, ids, field lists)
  | { kind: 'path' } // a file or folder the command writes or creates
  | { kind: 'file' } // a file that must exist
  | { kind: 'dir' } // a folder that must exist
  | { kind: 'check'; what: string; ok: (text: string) => boolean }
  | { kind: 'flag' };

const int = (min: number, max: number): Rule => ({ kind: 'int', min, max });
const num = (min: number, max: number, aboveMin = false): Rule => ({ kind: 'number', min, max, aboveMin });
const choice = (of: () => readonly string[]): Rule => ({ kind: 'choice', of });
const check = (what: string, ok: (text: string) => boolean): Rule => ({ kind: 'check', what, ok });
const TEXT: Rule = { kind: 'text' };
const PATH: Rule = { kind: 'path' };
const FILE: Rule = { kind: 'file' };
const DIR: Rule = { kind: 'dir' };
const FLAG: Rule = { kind: 'flag' };

const passes = (f: () => unknown) => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};
const WINDOW = check('a duration that divides 24h (e.g. 6h, 30m, 3600s)', (t) => passes(() => checkWindow(parseDuration(t))));
const DURATION = check('a duration (e.g. 250ms, 10s, 30m, 1h; a bare number is seconds)', (t) => /^\d+ms$/.test(t.trim()) || passes(() => parseDuration(t)));
const DAY = check('a UTC day, YYYY-MM-DD', (t) => /^\d{4}-\d{2}-\d{2}$/.test(t) && new Date(`${t}T00:00:00Z`).toISOString().slice(0, 10) === t);
const LISTEN = check('HOST:PORT, [IPV6]:PORT or PORT (port 0..65535)', (t) => {
  const m = /^(?:\[[0-9a-fA-F:.]+\]|[^:[\]]*):(\d{1,5})$/.exec(t) ?? /^(\d{1,5})$/.exec(t);
  return m !== null && Number(m[1]) <= 65535;
});
const PARTITION = check(`p/P with 0 <= p < P <= ${SHARD_BUCKETS}`, (t) => {
  const m = /^(\d+)\/(\d+)$/.exec(t);
  return m !== null && Number(m[1]) < Number(m[2]) && Number(m[2]) <= SHARD_BUCKETS;
});
const URL_OF = (schemes: string[]) =>
  check(`a URL (${schemes.map((s) => `${s}://`).join(' or ')})`, (t) => passes(() => new URL(t)) && schemes.includes(new URL(t).protocol.slice(0, -1)));
const RUN_NAME = check('letters, digits, - and _, starting with a letter (at most 64)', (t) => /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(t));
const MAX = Number.MAX_SAFE_INTEGER;

/** The rules, by option name; `command:name` entries win for that command. */
export const OPTION_RULES: Readonly<Record<string, Rule>> = {
  // detection (detect, serve, convert, cluster)
  workers: int(1, 256),
  'parse-threads': int(1, 256),
  window: WINDOW,
  profile: choice(() => Object.keys(PROFILES)),
  'min-endpoints': int(1, 1e9),
  'min-accounts': int(1, 1e9),
  'min-regions': int(1, 1e9),
  'min-clouds': int(1, CLOUD_NAMES.length),
  'max-cv-packets': num(0, 1e6),
  'max-cv-bytes': num(0, 1e6),
  'max-cv-flows': num(0, 1e6),
  'min-targets': int(1, 1e9),
  'min-ports': int(1, 65536),
  'min-internal-targets': int(1, 1e9),
  'home-net': TEXT, // CIDRs or @FILE: settings.ts checks each and says which is wrong
  'max-future': DURATION,
  allow: FILE,
  'own-cidrs': FILE,
  format: choice(supportedFormats),
  region: TEXT,
  account: TEXT,
  'aws-fields': TEXT,
  'region-map': FILE,
  cloud: choice(() => CLOUD_NAMES),
  partition: PARTITION,
  'batch-size': int(64, 1 << 20),
  pipeline: choice(() => ['auto', 'fused', 'sharded']),
  'chunk-size': int(1 << 16, 1 << 30),
  'max-line-bytes': int(1, 1 << 30),
  'max-decompressed-bytes': int(1, MAX),
  'max-memory': int(1, MAX),
  'no-spill': FLAG,
  'spill-dir': DIR,
  // analysis (detect, merge, cluster submit)
  'geoip-db': FILE,
  'asn-db': FILE,
  actors: FILE,
  'no-builtin-actors': FLAG,
  rdns: FLAG,
  'no-enrich': FLAG,
  top: int(1, 10000),
  // detect, merge
  out: PATH,
  partials: PATH,
  'near-misses': FLAG,
  quiet: FLAG,
  state: PATH,
  // convert
  'block-rows': int(1, 1 << 24),
  'run-rows': int(1, 1 << 28),
  'convert:partitions': int(1, SHARD_BUCKETS),
  // serve
  spool: DIR,
  listen: LISTEN,
  lateness: DURATION,
  settle: DURATION,
  poll: DURATION,
  'done-dir': PATH,
  'idle-stream': DURATION,
  webhook: URL_OF(['http', 'https']),
  syslog: URL_OF(['udp', 'tcp']),
  keep: FLAG,
  'batch-files': int(1, 1e6),
  'batch-bytes': int(1, MAX),
  'token-file': FILE,
  reprocess: DAY,
  // generate
  meta: PATH,
  seed: int(0, 0xffffffff),
  scale: num(0, 2000, true),
  days: int(1, 366),
  start: DAY,
  clouds: choice(() => ['aws', 'azure', 'gcp']),
  'gzip-level': int(1, 9),
  // filter
  scans: DIR,
  mode: choice(() => ['drop', 'tag']),
  replies: FLAG,
  jobs: int(1, 64),
  report: PATH,
  // history, export, report
  // (history, export and report say themselves when a folder holds no history or results)
  // detect, serve, convert, filter, cluster: a day or a time (the command parses and checks it)
  from: TEXT,
  to: TEXT,
  'history:from': DAY,
  'history:to': DAY,
  'export:from': DAY,
  'export:to': DAY,
  'report:from': DAY,
  'report:to': DAY,
  day: DAY,
  'min-days': int(1, 100000),
  'block-ttl-days': int(1, 100000),
  'block-max-days': int(1, 100000),
  findings: choice(() => FINDING_FORMATS),
  actor: TEXT,
  'export:format': choice(() => EXPORT_FORMATS),
  'report:format': choice(() => ['html', 'md']),
  title: TEXT,
  // cluster
  redis: TEXT, // the cluster command checks the URL and says what it needs
  store: TEXT,
  's3-endpoint': URL_OF(['http', 'https']),
  'gcs-endpoint': URL_OF(['http', 'https']),
  source: TEXT, // s3://, az://, gs://: serve checks the URL and says what it needs
  queue: check('letters, digits, - and _', (t) => /^[A-Za-z0-9_-]{1,64}$/.test(t)),
  'cluster submit:partitions': int(1, SHARD_BUCKETS),
  run: RUN_NAME,
  'group-bytes': int(1, MAX),
  stage: choice(() => ['replay', 'copy']),
  attempts: int(1, 100),
  'backoff-ms': int(0, 3_600_000),
  wait: FLAG,
  concurrency: int(1, 256),
  'lock-ms': int(1000, 86_400_000),
  'stalled-ms': int(1000, 86_400_000),
  'max-stalled': int(0, 100),
  json: FLAG,
  // config
  print: FLAG,
  'config:command': choice(() => ['detect', 'serve']),
};

/** The rule of one option of one command; undefined when the table has none (a test keeps that from happening). */
export function ruleOf(command: string, o: OptionSpec): Rule | undefined {
  if (o.type === 'boolean') return FLAG;
  return OPTION_RULES[`${command}:${o.name}`] ?? OPTION_RULES[o.name];
}

/** What a rule allows, for messages and `--help`. */
export function allowed(rule: Rule): string {
  switch (rule.kind) {
    case 'int':
      return rule.max >= MAX ? `a whole number of at least ${rule.min}` : `a whole number from ${rule.min} to ${rule.max}`;
    case 'number':
      return `a number ${rule.aboveMin ? 'above' : 'from'} ${rule.min}${rule.aboveMin ? ' and at most' : ' to'} ${rule.max}`;
    case 'choice':
      return `one of ${rule.of().join(', ')}`;
    case 'text':
      return 'a non-empty text';
    case 'path':
      return 'a path';
    case 'file':
      return 'an existing file';
    case 'dir':
      return 'an existing folder';
    case 'check':
      return rule.what;
    case 'flag':
      return 'true or false';
  }
}

/** Why one value breaks its rule, or null when it is fine. */
function fault(rule: Rule, value: string | number | boolean): string | null {
  switch (rule.kind) {
    case 'int':
      return Number.isInteger(value) && (value as number) >= rule.min && (value as number) <= rule.max ? null : '';
    case 'number': {
      const n = value as number;
      return typeof n === 'number' && Number.isFinite(n) && (rule.aboveMin ? n > rule.min : n >= rule.min) && n <= rule.max ? null : '';
    }
    case 'choice':
      return rule.of().includes(String(value)) ? null : '';
    case 'text':
    case 'path':
      return String(value).trim() ? null : '';
    case 'file':
    case 'dir': {
      try {
        const st = statSync(String(value));
        if (rule.kind === 'file' ? st.isDirectory() : !st.isDirectory()) return rule.kind === 'file' ? 'a folder' : 'not a folder';
        return null;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code ?? 'unreadable';
      }
    }
    case 'check':
      return rule.ok(String(value)) ? null : '';
    case 'flag':
      return typeof value === 'boolean' ? null : '';
  }
}

/** How a message names where a value came from: the flag, the variable or the file's key. */
export function origin(name: string, source: Source | undefined): string {
  if (source?.kind === 'env') return `${source.where} (--${name})`;
  if (source?.kind === 'file') return `${source.where}: '${name}'`;
  return `--${name}`;
}

/** Every value the command was given (not its defaults) against its option's rule; throws a UsageError naming the first bad one. */
export function checkOptions(spec: CommandSpec, parsed: Parsed): void {
  for (const o of spec.options) {
    const source = parsed.sources[o.name];
    if (!source || source.kind === 'default') continue;
    const rule = ruleOf(spec.name, o);
    if (!rule) continue;
    const value = parsed.values[o.name];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined) continue;
      const why = fault(rule, item);
      if (why !== null) throw new UsageError(`${origin(o.name, source)} must be ${allowed(rule)}, got '${item}'${why ? ` (${why})` : ''}`);
    }
  }
}
