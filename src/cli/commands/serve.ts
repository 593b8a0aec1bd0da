/**
 * flowsieve serve: the sidecar. Watches a spool folder, processes complete files in
 * batches, finalises windows as the watermark passes them, keeps its state crash-safe in
 * the state folder, and answers an HTTP API (see src/serve/ and docs/SIDECAR.md).
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { CommandSpec, Parsed } from '../../app/args.js';
import { UsageError } from '../../app/args.js';
import { DETECTION_OPTIONS, S3_ENDPOINT_OPTION, detectOptionsFrom } from '../../app/settings.js';
import { isSourceUrl } from '../../source/url.js';
import { ANALYSIS_OPTIONS, analysisPlan } from '../../app/analysis.js';
import type { ScannerEnricher } from '../../serve/sidecar.js';
import { Notifier, syslog, webhook, type Destination } from '../../serve/notify.js';
import { parseDuration } from '../../detect/rules.js';
import { Sidecar, StartError } from '../../serve/sidecar.js';
import { CheckpointWriteError } from '../../serve/checkpoint.js';
import { removeAllSpills } from '../../engine/run.js';
import { ApiServer, isLoopback, parseListen } from '../../serve/http.js';
import { dayStart } from '../../serve/windows.js';

export const spec: CommandSpec = {
  name: 'serve',
  summary: 'run beside a log pipeline: process files as they land, serve verdicts over HTTP',
  usage: 'flowsieve serve --spool DIR|--source URL --state DIR [--listen 127.0.0.1:9310] [--window 6h] [--lateness DURATION] [options]',
  options: [
    { name: 'spool', type: 'string', help: 'folder the shipper writes flow-log files into', value: 'DIR' },
    { name: 'source', type: 'string', help: 'read a bucket prefix instead of a spool: s3://…, az://…, gs://… (new objects each poll, oldest flows first)', value: 'URL' },
    { name: 'state', type: 'string', help: 'folder for the checkpoint, the state database and scans.ndjson', value: 'DIR' },
    { name: 'listen', type: 'string', help: 'HTTP address (non-loopback needs --token-file)', default: '127.0.0.1:9310', value: 'HOST:PORT' },
    { name: 'lateness', type: 'string', help: "how late records may come: a window is final once every active stream's newest flow time passes its end by this (default per cloud: aws 1h, azure 2h, gcp 1h, other 30m)", value: 'DURATION' },
    { name: 'idle-stream', type: 'string', help: 'a stream (account and region, spool folder) with no file for this long stops holding the watermark', default: '1h', value: 'DURATION' },
    { name: 'settle', type: 'string', help: 'a file is complete once unchanged this long (0 when files are renamed in)', default: '10s', value: 'DURATION' },
    { name: 'poll', type: 'string', help: 'how often to look at the spool (it is also watched)', default: '2s', value: 'DURATION' },
    { name: 'done-dir', type: 'string', help: 'where processed files go (default <spool>/.done)', value: 'DIR' },
    { name: 'keep', type: 'boolean', help: 'leave processed files in the spool (the ledger remembers them)' },
    { name: 'batch-files', type: 'number', help: 'at most this many files per batch', default: 256 },
    { name: 'batch-bytes', type: 'size', help: 'at most this many bytes per batch (one larger file is taken alone)', default: 256 * 1024 * 1024 },
    { name: 'token-file', type: 'string', help: 'file holding the bearer token the API requires', value: 'FILE' },
    { name: 'reprocess', type: 'list', help: 'rebuild these finalised UTC days from their files at start (comma separated)', value: 'YYYY-MM-DD' },
    { name: 'quiet', type: 'boolean', help: 'log only problems' },
    ...DETECTION_OPTIONS,
    S3_ENDPOINT_OPTION,
    { name: 'webhook', type: 'string', help: 'POST new scan keys and outbound/internal alerts here as JSON (retried; an outbox in --state)', value: 'URL' },
    { name: 'syslog', type: 'string', help: 'send them as RFC 5424 syslog too: udp://HOST:PORT or tcp://HOST:PORT', value: 'TARGET' },
    // the same enrichment as detect: countries, networks and known scanners in scans.ndjson and the API
    ...ANALYSIS_OPTIONS.filter((o) => o.name !== 'top'),
  ],
};

/** A duration in milliseconds: 250ms, 2s, 10m, 1h (a bare number is seconds). */
export function durationMs(text: string, option: string): number {
  const ms = /^(\d+)ms$/.exec(text.trim());
  if (ms) return Number(ms[1]);
  try {
    return parseDuration(text) * 1000;
  } catch (err) {
    throw new UsageError(`--${option}: ${(err as Error).message}`);
  }
}

function readToken(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`--token-file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (token.length < 16 || /\s/.test(token)) throw new UsageError('--token-file: the token must be one word of at least 16 characters');
  return token;
}

export async function run(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length) throw new UsageError(`serve takes no input paths (files come from --spool), got '${args.positionals[0]}'`);
  if (!v.spool && !v.source) throw new UsageError('serve needs --spool DIR (or --source s3://…|az://…|gs://…)');
  if (v.spool && v.source) throw new UsageError('serve reads --spool or --source, not both');
  if (v.source && !isSourceUrl(String(v.source))) throw new UsageError(`--source ${v.source}: expected s3://…, az://…, https://ACCOUNT.blob.core.windows.net/… or gs://…`);
  if (!v.state) throw new UsageError('serve needs --state DIR');
  let listen: { host: string; port: number };
  try {
    listen = parseListen(String(v.listen));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const token = v['token-file'] ? readToken(String(v['token-file'])) : null;
  if (!isLoopback(listen.host) && !token) {
    throw new UsageError(`refusing to listen on ${listen.host}, which is not a loopback address, without --token-file`);
  }
  const reprocess = ((v.reprocess as string[] | undefined) ?? []).map((d) => d.trim()).filter(Boolean);
  for (const d of reprocess) if (!Number.isFinite(dayStart(d))) throw new UsageError(`--reprocess: '${d}' is not a day (YYYY-MM-DD)`);
  const detect = detectOptionsFrom(v, []);
  const { enricher } = analysisPlan(v);
  const destinations: Destination[] = [];
  try {
    if (v.webhook !== undefined) destinations.push(webhook(String(v.webhook)));
    if (v.syslog !== undefined) destinations.push(syslog(String(v.syslog)));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const enrich: ScannerEnricher | undefined = enricher
    ? async (ips) => {
        const e = await enricher.enrich(ips);
        return new Map([...e.facts].map(([ip, f]) => [ip, { country: f.country, asn: f.asn, as_org: f.as_org, actor: f.actor }]));
      }
    : undefined;
  const batchFiles = Number(v['batch-files']);
  const batchBytes = Number(v['batch-bytes']);
  if (!(batchFiles >= 1)) throw new UsageError('--batch-files must be at least 1');
  if (!(batchBytes >= 1)) throw new UsageError('--batch-bytes must be at least 1');
  const source = v.source === undefined ? undefined : String(v.source);
  const spoolDir = source ? '' : resolve(String(v.spool));
  const inside = (dir: string, parent: string) => dir === parent || dir.startsWith(parent + sep);
  if (!source && inside(resolve(String(v.state)), spoolDir)) throw new UsageError('--state must not be inside --spool (its files would be taken for input)');
  if (!source && v['done-dir'] !== undefined && resolve(String(v['done-dir'])) === spoolDir) throw new UsageError('--done-dir must not be the spool itself');
  const quiet = Boolean(v.quiet);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} flowsieve serve: ${line}\n`);
  const spool = source ?? String(v.spool);
  const notifier = destinations.length ? new Notifier(String(v.state), destinations, log) : null;
  const sidecar = new Sidecar({
    detect,
    spoolDir: spool,
    ...(source ? { source } : {}),
    stateDir: String(v.state),
    // objects stay in the bucket: the ledger remembers what was read
    doneDir: v.keep || source ? null : String(v['done-dir'] ?? join(spool, '.done')),
    settleMs: durationMs(String(v.settle), 'settle'),
    pollMs: Math.max(10, durationMs(String(v.poll), 'poll')),
    latenessSeconds: v.lateness === undefined ? null : durationMs(String(v.lateness), 'lateness') / 1000,
    idleSeconds: durationMs(String(v['idle-stream']), 'idle-stream') / 1000,
    batchFiles,
    batchBytes,
    reprocess,
    enricher: enrich,
    onCommit: (sizes) => notifier?.committed(sizes),
    log: quiet ? (line) => /cannot|error|late|resuming|gone/.test(line) && log(line) : log,
  });
  const api = new ApiServer({ ...listen, token, sidecar, log, enrichment: enrich !== undefined });
  let bound: { host: string; port: number };
  try {
    bound = await api.listen();
  } catch (err) {
    process.stderr.write(`flowsieve serve: cannot listen on ${listen.host}:${listen.port}: ${(err as Error).message}\n`);
    return 1;
  }
  // the handlers before the line that says serve listens: a supervisor (or a test) that
  // signals as soon as it reads the line must find them (the reader, woken by the line, often
  // runs before this process goes on, and a SIGTERM found no handler then: killed outright)
  let stopping: Promise<void> | null = null;
  const stop = (signal: string) => {
    if (stopping) {
      log(`${signal} again: exiting now (the last checkpoint stands)`);
      removeAllSpills();
      process.exit(signal === 'SIGINT' ? 130 : 143); // the signal's code, as a shell reports a kill by it
    }
    log(`${signal}: finishing the current batch, then stopping`);
    stopping = sidecar.stop();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const host = bound.host.includes(':') ? `[${bound.host}]` : bound.host;
  log(`listening on http://${host}:${bound.port}`);

  let watcher: FSWatcher | null = null;
  try {
    await sidecar.start();
    notifier?.committed(sidecar.committedSizes()); // what was committed but not delivered before the last stop
    try {
      if (!source) watcher = watch(spool, { persistent: false }, () => sidecar.poke());
    } catch {
      // polling alone still works (some file systems cannot be watched)
    }
    if (!stopping) await sidecar.run();
    await (stopping ?? sidecar.stop());
    log('stopped');
    return 0;
  } catch (err) {
    const usage = err instanceof StartError || err instanceof UsageError;
    if (usage) process.stderr.write(`flowsieve serve: ${(err as Error).message}\n`);
    else if (err instanceof CheckpointWriteError) log(`failed: ${err.message}`); // a full disk: the message says it all
    else log(`failed: ${(err as Error).stack ?? err}`);
    // crash-only from here: the last checkpoint stands and a restart resumes from it
    setTimeout(() => process.exit(usage ? 1 : 3), 5000).unref();
    await sidecar.stop().catch(() => {});
    return usage ? 1 : 3;
  } finally {
    watcher?.close();
    await notifier?.stop();
    await api.close();
  }
}
