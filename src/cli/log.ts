/**
 * Messages on stderr for people (text, the default) or machines (--log-format json: one
 * JSON object a line, pino's field names: time in ms, level as a number and a label, msg).
 *
 * The commands write their messages as lines on stderr; in JSON mode every such line
 * becomes one record (lines that continue a message, indented, stay in its `msg`), so
 * every command's output is structured without each one knowing the format. Progress
 * records carry their figures as fields (progress.ts).
 */
const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
export type Level = keyof typeof LEVELS;

let format: 'text' | 'json' = 'text';
let command = 'flowsieve';
let rawWrite: ((chunk: string) => boolean) | null = null;

export function logFormat(): 'text' | 'json' {
  return format;
}

/** One JSON record: time, level, the command, the message and its fields. */
export function jsonRecord(level: Level, msg: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ time: Date.now(), level: LEVELS[level], level_label: level, cmd: command, msg, ...fields }) + '\n';
}

/** A structured message: a JSON record, or in text mode the message alone. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  const write = rawWrite ?? ((s: string) => process.stderr.write(s));
  write(format === 'json' ? jsonRecord(level, msg, fields) : msg + '\n');
}

/** The level a command's plain line reads as. */
function levelOf(line: string): Level {
  if (/\b(error|failed|cannot|could not|refusing|must be|needs|unknown|not filtered)\b/i.test(line)) return 'error';
  if (/\b(PARTIAL|DROPPED|warning|late|gone|skipped)\b/.test(line)) return 'warn';
  return 'info';
}

/** Sets the format for this process; in JSON mode stderr's lines become records from now on. */
export function setLogFormat(f: 'text' | 'json', cmd: string): void {
  format = f;
  command = cmd;
  if (f !== 'json' || rawWrite) return;
  const stderr = process.stderr;
  const original = stderr.write.bind(stderr) as (chunk: string) => boolean;
  rawWrite = original;
  let pending = '';
  const flush = (text: string) => {
    // a message and its indented continuation lines are one record; terminal control codes are dropped
    // eslint-disable-next-line no-control-regex -- the terminal's erase-line code, which a log record must not hold
    const clean = text.replace(/\r|\x1b\[K/g, '').replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, '');
    if (!clean.trim()) return;
    const prefix = `flowsieve ${cmd}: `;
    const msg = clean.startsWith(prefix) ? clean.slice(prefix.length) : clean.replace(/^flowsieve: /, '');
    original(jsonRecord(levelOf(msg), msg));
  };
  stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    let message: string[] = [];
    for (const line of lines) {
      if (/^\s/.test(line) && message.length) message.push(line.trim());
      else {
        if (message.length) flush(message.join('\n'));
        message = [line];
      }
    }
    if (message.length) flush(message.join('\n'));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof stderr.write;
}
