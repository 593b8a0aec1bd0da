/**
 * The options every command takes before its own (--config, --log-format), read before
 * anything else is loaded: `flowsieve --version` and the usage need nothing more
 * (src/cli/main.ts loads the option rules and the config file reader only for a command).
 */
import { UsageError } from './args.js';

/**
 * Takes the global options out of a command's arguments: --config FILE (or FLOWSIEVE_CONFIG)
 * and --log-format text|json (or FLOWSIEVE_LOG_FORMAT).
 */
export function takeGlobalOptions(argv: string[], env: Record<string, string | undefined>): { rest: string[]; config?: string; logFormat: 'text' | 'json' } {
  const rest: string[] = [];
  let config = env.FLOWSIEVE_CONFIG || undefined;
  let logFormat = env.FLOWSIEVE_LOG_FORMAT || 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const m = /^--(config|log-format)(?:=(.*))?$/.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`option --${m[1]} needs a value`);
    if (m[1] === 'config') config = value;
    else logFormat = value;
  }
  if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format must be one of text, json, got '${logFormat}'`);
  return { rest, config, logFormat };
}
