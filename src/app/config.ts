/**
 * One way to configure every command: a --config file (YAML or JSON) and FLOWSIEVE_*
 * variables under the flags. Precedence: flags > variables > file > defaults.
 *
 * The file holds options by their flag names. Top-level keys apply to every command that
 * has the option (a detect and a serve can share one file); a section named after a
 * command (`detect:`, `serve:`, `cluster submit:`) applies to that command only and wins
 * over the top level. A key that is no option of any command is an error, so a typo is not
 * silently ignored.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { UsageError, type Layers } from './args.js';
import { OPTION_RULES } from './option-rules.js';

/**
 * The YAML parser, loaded when a YAML file is read: loading it costs every run about 30 ms
 * of start-up (bench/RESULTS.md, start-up), and most runs read no config file.
 */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yaml.parse(text, { prettyErrors: true });
}

/** Every option name some command has (the rule table has one entry per name). */
function knownOptions(): Set<string> {
  return new Set(Object.keys(OPTION_RULES).map((k) => k.slice(k.indexOf(':') + 1)));
}

const COMMAND_SECTIONS = ['detect', 'serve', 'convert', 'generate', 'filter', 'history', 'export', 'report', 'merge', 'cluster submit', 'cluster worker', 'cluster status'];

/** The parsed file: a mapping of options and command sections. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UsageError(`--config ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`--config ${path}: expected a mapping of option names to values`);
  const known = knownOptions();
  for (const [key, value] of Object.entries(doc)) {
    if (COMMAND_SECTIONS.includes(key)) {
      if (value === null) continue;
      if (typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`--config ${path}: section '${key}' must be a mapping of option names to values`);
      for (const k of Object.keys(value)) if (!known.has(k)) throw new UsageError(`--config ${path}: '${key}.${k}' is not an option of flowsieve ${key}`);
    } else if (!known.has(key)) {
      throw new UsageError(`--config ${path}: unknown setting '${key}' (keys are option names, such as min-endpoints, or sections: ${COMMAND_SECTIONS.join(', ')})`);
    }
  }
  return doc as Record<string, unknown>;
}

/** The file's settings for one command: the top level, then its section. */
export function settingsFor(command: string, doc: Record<string, unknown>): Record<string, unknown> {
  const top = Object.fromEntries(Object.entries(doc).filter(([k]) => !COMMAND_SECTIONS.includes(k)));
  const section = doc[command];
  return { ...top, ...(section && typeof section === 'object' ? (section as Record<string, unknown>) : {}) };
}


/** The layers under the flags for one command. */
export function layersFor(command: string, config: string | undefined, env: Record<string, string | undefined>): Layers {
  return { env, file: config === undefined ? undefined : { path: config, values: settingsFor(command, readConfigFile(config)) } };
}
