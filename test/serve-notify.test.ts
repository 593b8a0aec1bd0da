/**
 * serve pushes new scan keys and outbound / internal alerts to a webhook and to syslog
 * (issue 15), from an outbox in the state folder: receivers on loopback started here; the
 * webhook fails at first, serve is killed with SIGKILL, restarted, and then every event
 * arrives, each exactly once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { V2_HEADER, v2Line, type Flow } from './helpers/aws.js';
import { T0, clockFile } from './helpers/stream.js';
import { dropFile, getJson, startServe, stopServe, until, type ServeProcess } from './helpers/serve.js';
import { Enricher } from '../dist/src/enrich/index.js';
import { parseAddress } from '../dist/src/net/address.js';
import { syslog } from '../dist/src/serve/notify.js';

const TOKEN = 'test-token-0123456789abcdef';
const idOf = (line: string) => createHash('sha256').update(line).digest('hex').slice(0, 32);
const linesOf = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()) : []);
const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);
/** A destination's cursor: the bytes of each outbox file it has delivered (notify-<name>.json). */
function cursorOf(state: string, name: string): { scans: number; outbound: number } {
  const path = join(state, `notify-${name}.json`);
  const c = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  return { scans: Number(c.scans) || 0, outbound: Number(c.outbound) || 0 };
}

/** An HTTP receiver that answers 503 while `failing`, and records the events it accepted. */
function webhookReceiver() {
  const r = { failing: true, attempts: 0, accepted: [] as any[], keys: [] as string[], server: null as Server | null, url: '' };
  r.server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      r.attempts++;
      if (r.failing) {
        res.writeHead(503).end();
        return;
      }
      r.keys.push(String(req.headers['idempotency-key']));
      r.accepted.push(...JSON.parse(body).events);
      res.writeHead(204).end();
    });
  });
  return r;
}

describe('serve: alerts pushed to a webhook and syslog, exactly once across SIGKILL', () => {
  const dir = tempDir();
  const spool = join(dir, 'spool');
  const state = join(dir, 'state');
  const hook = webhookReceiver();
  const tokenFile = join(dir, 'token');
  const udp = createSocket('udp4');
  const syslogLines: string[] = [];
  udp.on('message', (m) => syslogLines.push(m.toString('utf8')));
  let serve: ServeProcess | null = null;
  afterAll(async () => {
    if (serve && serve.proc.exitCode === null) await stopServe(serve);
    hook.server?.close();
    udp.close();
  });

  it('delivers every scan key and alert committed before the kill', async () => {
    mkdirSync(spool, { recursive: true });
    writeFileSync(tokenFile, TOKEN + '\n');
    await new Promise<void>((resolve) => hook.server!.listen(0, '127.0.0.1', resolve));
    const port = (hook.server!.address() as { port: number }).port;
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const udpPort = udp.address().port;
    const args = ['--spool', spool, '--state', state, '--window', '1h', '--settle', '0', '--poll', '50ms', '--workers', '2',
      '--webhook', `http://127.0.0.1:${port}/hook`, '--syslog', `udp://127.0.0.1:${udpPort}`, '--token-file', tokenFile];
    const flows: Flow[] = [];
    for (let k = 0; k < 12; k++) flows.push({ src: '45.0.1.1', dst: `10.0.1.${k + 1}`, dport: 22, start: T0 + 60 + k });
    for (let k = 0; k < 120; k++) flows.push({ iface: 'eni-worm', src: '10.0.0.5', dst: `81.2.0.${k + 1}`, dport: 23, start: T0 + 300 + k, action: 'ACCEPT' });
    for (let k = 0; k < 25; k++) flows.push({ iface: 'eni-lat', src: '10.0.0.6', dst: `10.0.2.${k + 1}`, dport: 445, start: T0 + 600 + k });
    dropFile(spool, 'a.log', [V2_HEADER, ...flows.map(v2Line)].join('\n') + '\n');
    const clock = clockFile(T0 + 5 * 3600);
    dropFile(spool, clock.name, clock.text);

    serve = await startServe(args);
    // committed: both files hold the verdicts; the webhook has refused at least once
    await until(async () => linesOf(join(state, 'outbound.ndjson')).length === 2 && hook.attempts > 0, 30_000, 'alerts committed and a refused delivery');
    await until(async () => syslogLines.length >= 3, 10_000, 'syslog messages');
    // UDP has no acknowledgement: syslog's events count as delivered once its cursor is written,
    // a moment after the datagrams left (notify.ts). A kill in that moment sends them again, as
    // the contract allows; the kill below must come after it, so that "each once" holds at any load
    const committed = () => ({ scans: sizeOf(join(state, 'scans.ndjson')), outbound: sizeOf(join(state, 'outbound.ndjson')) });
    await until(async () => JSON.stringify(cursorOf(state, 'syslog')) === JSON.stringify(committed()), 10_000, 'the syslog cursor at the committed sizes');
    await serve.waitLog(/cannot deliver \d+ event\(s\): HTTP 503/);
    const firstLog = serve.log();
    serve.proc.kill('SIGKILL');
    await serve.exited;

    hook.failing = false;
    serve = await startServe(args);
    const scans = linesOf(join(state, 'scans.ndjson'));
    const alerts = linesOf(join(state, 'outbound.ndjson'));
    const expected = [...scans.map(idOf), ...alerts.map(idOf)].sort();
    await until(async () => hook.accepted.length >= expected.length, 30_000, 'every event at the webhook');
    await new Promise((r) => setTimeout(r, 500)); // a repeat, were there one, would come now
    expect(hook.accepted.map((e) => e.id).sort()).toEqual(expected); // each once
    expect(hook.accepted.filter((e) => e.type === 'alert').map((e) => [e.kind, e.src]).sort()).toEqual([['horizontal', '10.0.0.5'], ['internal', '10.0.0.6']]);
    expect(hook.accepted.find((e) => e.kind === 'internal').interface).toBe('eni-lat');
    expect(hook.keys.every((k) => /^[0-9a-f]{32}-[0-9a-f]{32}$/.test(k))).toBe(true);
    expect(firstLog).toMatch(/webhook http:\/\/127\.0\.0\.1:\d+\/hook: cannot deliver \d+ event\(s\): HTTP 503 \(retrying\)/);

    // syslog: RFC 5424, every event once (UDP was up all along)
    const ids = syslogLines.map((l) => /\[flowsieve@32473 id="([0-9a-f]{32})"/.exec(l)?.[1]).sort();
    expect(ids).toEqual(expected);
    for (const l of syslogLines) expect(l).toMatch(/^<1(3[0-4]|2\d)>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S+ flowsieve \d+ (scan|alert) \[flowsieve@32473 [^\]]*\] \{/);
    const internal = syslogLines.find((l) => l.includes('kind="internal"'))!;
    expect(internal.startsWith('<133>1 ')).toBe(true); // local0 (16) * 8 + notice (5): a low-severity alert

    // serve enriches as detect does: the same country and network, and ?country= filters
    const facts = (await new Enricher().enrich([{ text: '45.0.1.1', words: parseAddress('45.0.1.1')! }])).facts.get('45.0.1.1')!;
    expect(facts.country).toMatch(/^[A-Z]{2}$/);
    const scan = hook.accepted.find((e) => e.type === 'scan' && e.src === '45.0.1.1');
    expect([scan.country, scan.asn, scan.as_org]).toEqual([facts.country, facts.asn, facts.as_org]);
    const day = '2023-11-15';
    const hit = (await getJson(`${serve.url}/v1/scanners?day=${day}&country=${facts.country}`, TOKEN)).body;
    expect(hit.ignored_filters).toBeUndefined();
    expect(hit.scanners.map((x: any) => [x.src, x.country])).toEqual([['45.0.1.1', facts.country]]);
    const miss = (await getJson(`${serve.url}/v1/scanners?day=${day}&country=${facts.country === 'AQ' ? 'ZZ' : 'AQ'}`, TOKEN)).body;
    expect(miss.scanners).toEqual([]);
    await stopServe(serve);
  }, 90_000);

  it('syslog over TCP frames each message with its length (RFC 6587 octet counting)', async () => {
    const got: string[] = [];
    const server = createTcpServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const sp = buf.indexOf(32);
          if (sp < 0) break;
          const len = Number(buf.subarray(0, sp).toString('latin1'));
          if (!Number.isInteger(len)) throw new Error(`bad frame length '${buf.subarray(0, sp)}'`);
          if (buf.length < sp + 1 + len) break;
          got.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
          buf = buf.subarray(sp + 1 + len);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const d = syslog(`tcp://127.0.0.1:${(server.address() as { port: number }).port}`);
    await d.send([{ id: 'a'.repeat(32), type: 'alert', kind: 'internal', src: '10.0.0.6', severity: 'high', note: 'ü "x" ]' }, { id: 'b'.repeat(32), type: 'scan', src: '45.0.1.1' }]);
    await until(async () => got.length === 2, 5000, 'two frames');
    d.close();
    server.close();
    expect(got[0]).toMatch(/^<131>1 \S+ \S+ flowsieve \d+ alert \[flowsieve@32473 id="a{32}" src="10\.0\.0\.6" kind="internal"\] \{/);
    expect(JSON.parse(got[0]!.slice(got[0]!.indexOf('] ') + 2)).note).toBe('ü "x" ]');
    expect(got[1]).toMatch(/^<134>1 .* scan \[flowsieve@32473 id="b{32}" src="45\.0\.1\.1"\]/);
  });
});
