/**
 * flowsieve serve: the HTTP API (routes, paging, filters, 400s, token), the refusal to
 * listen beyond loopback without a token, late records (counted, reported, verdicts
 * unchanged) and --reprocess (the day rebuilt from its files, late records included).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { V2_HEADER, v2Line, scanner } from './helpers/aws.js';
import { CLI, dropFile, getJson, openSqlite, startServe, stopServe, until, type ServeProcess } from './helpers/serve.js';
import { T0, clockFile, streamFiles, streamFlows } from './helpers/stream.js';
import { scanRecord } from '../dist/src/output/verdicts.js';

const W = 3600;
const TOKEN = 'test-token-0123456789abcdef';
const DAY = '2023-11-15';

describe('serve: HTTP API, late records, reprocess', () => {
  const dir = tempDir();
  const spool = join(dir, 'spool');
  const state = join(dir, 'state');
  const tokenFile = join(dir, 'token');
  const all = join(dir, 'all'); // every file, for the detect comparison
  let serve: ServeProcess;
  const args = () => ['--spool', spool, '--state', state, '--window', '1h', '--settle', '0', '--poll', '50ms', '--workers', '2', '--token-file', tokenFile, '--no-enrich'];
  const get = (path: string, token: string | null = TOKEN) => getJson(`${serve.url}${path}`, token);
  const files = [...streamFiles(streamFlows(6)), clockFile(T0 + 25 * 3600)];
  // records for hour 2, after it is final: a scanner that only the late records make
  const lateText = [V2_HEADER, ...scanner('45.99.99.99', 10, { start: T0 + 2 * 3600 + 60, dport: 8080 }).map(v2Line)].join('\n') + '\n';

  beforeAll(async () => {
    mkdirSync(spool);
    mkdirSync(all);
    writeFileSync(tokenFile, TOKEN + '\n');
    for (const f of files) {
      dropFile(spool, f.name, f.text);
      writeFileSync(join(all, f.name), f.text);
    }
    dropFile(spool, 'broken.log', 'this is not a flow log\n');
    serve = await startServe(args());
    await until(async () => (await get('/v1/status')).body?.finalized_through === '2023-11-16T00:00:00Z', 30_000, 'the first day to be final');
  });

  afterAll(async () => {
    if (serve && serve.proc.exitCode === null) await stopServe(serve);
  });

  it('answers health and readiness without a token, everything else only with it', async () => {
    expect((await get('/healthz', null)).status).toBe(200);
    expect((await get('/readyz', null)).body).toEqual({ status: 'ready' });
    for (const path of ['/metrics', '/v1/status', `/v1/scanners?day=${DAY}`, '/v1/stats', '/v1/report']) {
      expect((await get(path, null)).status).toBe(401);
      expect((await get(path, 'wrong-token-wrong-token')).status).toBe(401);
      expect((await get(path)).status).toBe(200);
    }
  });

  it('lists the day\'s scanners, paged, filtered by port and protocol', async () => {
    const expected = await runDetect([all], { windowSeconds: W });
    const ips = [...new Set(expected.scans.filter((v: any) => v.window * W < T0 + 86400).map((v: any) => v.src))];
    const page1 = (await get(`/v1/scanners?day=${DAY}&limit=5`)).body;
    expect(page1.day).toBe(DAY);
    expect(page1.count).toBe(5);
    expect(page1.next_cursor).toMatch(/^[46][0-9a-f]{32}$/);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await get(`/v1/scanners?day=${DAY}&limit=7${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...page.scanners.map((s: any) => s.src));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual((ips as string[]).sort());
    const persistent = (await get(`/v1/scanners?day=${DAY}&port=23&protocol=tcp&limit=1000`)).body.scanners.find((s: any) => s.src === '80.82.77.33');
    expect(persistent).toMatchObject({ scan_keys: 6, ports: [{ protocol: 6, port: 23 }], max_endpoints: 12, flows: 72 });
    expect((await get(`/v1/scanners?day=${DAY}&port=22`)).body.scanners.every((s: any) => s.ports.every((p: any) => p.port === 22))).toBe(true);
    expect((await get(`/v1/scanners?day=${DAY}&protocol=17`)).body.scanners).toEqual([]);
    // without the analyst's enrichment the actor and country filters are accepted and reported as not applied
    const withActor = (await get(`/v1/scanners?day=${DAY}&actor=shodan&country=NL&limit=1000`)).body;
    expect(withActor.ignored_filters).toEqual(['actor', 'country']);
    expect(withActor.scanners.length).toBe(ips.length);
  });

  it('shows one scanner\'s days, ports and scan keys', async () => {
    const r = await get('/v1/scanners/80.82.77.33');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ip: '80.82.77.33', days_seen: 1, ports: [{ protocol: 6, port: 23 }], enrichment: { country: null, actor: null } });
    expect(r.body.scans).toHaveLength(6);
    expect(r.body.scans[0]).toMatchObject({ window_start: '2023-11-15T00:00:00Z', window_end: '2023-11-15T01:00:00Z', endpoints: 12 });
    expect((await get('/v1/scanners/::ffff:80.82.77.33')).body.ip).toBe('80.82.77.33');
    expect((await get('/v1/scanners/10.0.0.5')).body.outbound_alerts[0]).toMatchObject({ src: '10.0.0.5', dst_port: 445, worm_signature: true });
    expect((await get('/v1/scanners/1.2.3.4')).status).toBe(404);
  });

  it('gives the day\'s statistics, the days-seen histogram and an HTML report', async () => {
    const s = (await get(`/v1/stats?day=${DAY}`)).body;
    expect(s).toMatchObject({ day: DAY, share_of_flows: { udp: 0 }, late_records: 0 });
    expect(s.scanner_ips).toBeGreaterThan(15);
    expect(s.windows).toHaveLength(24);
    expect(s.endpoints.scanned).toBeGreaterThan(30);
    expect(s.top_ports_by_scanners[0]).toHaveProperty('dst_port');
    const all = (await get('/v1/stats')).body;
    expect(all.days.map((d: any) => d.day)).toEqual([DAY]);
    expect(all.days_seen_histogram).toEqual([{ days: 1, scanner_ips: all.scanner_ips }]);
    // the report module's page over the complete days (Chart.js inlined)
    const html = await get('/v1/report');
    expect(html.text).toMatch(/^<!doctype html>/);
    expect(html.text).toContain(DAY);
    expect(html.text).toContain('Chart.js');
    expect((await get(`/v1/report?from=${DAY}&to=${DAY}`)).status).toBe(200);
    expect((await get('/v1/stats?day=2020-01-01')).status).toBe(404);
  });

  it('answers bad requests with 400 and a message, never a stack trace', async () => {
    const cases: Array<[string, RegExp]> = [
      [`/v1/scanners?day=2023-13-45`, /day: expected a date/],
      [`/v1/scanners?day=yesterday`, /day: expected a date/],
      [`/v1/scanners?day=${DAY}&port=70000`, /port: expected a whole number from 0 to 65535/],
      [`/v1/scanners?day=${DAY}&port=-1`, /port/],
      [`/v1/scanners?day=${DAY}&protocol=bogus`, /protocol/],
      [`/v1/scanners?day=${DAY}&limit=0`, /limit/],
      [`/v1/scanners?day=${DAY}&cursor=zzz`, /cursor/],
      [`/v1/scanners?day=${DAY}&day=${DAY}`, /given twice/],
      [`/v1/scanners?dya=${DAY}`, /unknown parameter 'dya'/],
      ['/v1/scanners/not-an-ip', /not an IPv4 or IPv6 address/],
      ['/v1/scanners/%E0%A4%A', /malformed/],
      ['/v1/stats?day=2023-02-30', /day/],
      ['/v1/stats?top=1000', /top/],
      ['/v1/report?from=2023-11-16&to=2023-11-15', /after/],
      ['/v1/report?day=2023-11-15', /unknown parameter 'day'/],
    ];
    for (const [path, message] of cases) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(r.body.error, path).toMatch(message);
      expect(r.text).not.toMatch(/\n\s+at /);
    }
    expect((await get('/nope')).status).toBe(404);
    const post = await fetch(`${serve.url}/v1/status`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('exports Prometheus metrics', async () => {
    const m = (await get('/metrics')).text;
    expect(m).toMatch(/flowsieve_records_read_total\{format="aws-text"\} \d+/);
    expect(m).toMatch(/flowsieve_bytes_read_total\{format="aws-text"\} \d+/);
    expect(m).toMatch(/flowsieve_files_total\{result="failed"\} 1/); // broken.log
    expect(m).toMatch(/flowsieve_files_pending 0/);
    expect(m).toMatch(/flowsieve_batch_seconds_bucket/);
    expect(m).toMatch(/flowsieve_accumulator_keys \d+/);
    expect(m).toMatch(/flowsieve_windows_open \d+/);
    expect(m).toMatch(/flowsieve_scanners\{day="2023-11-15"\} \d+/);
    expect(m).toMatch(/flowsieve_last_finalized_window_end_seconds 1700092800/);
    expect(m).toMatch(/flowsieve_process_resident_memory_bytes \d+/);
  });

  it('counts and reports records for a finalised window without changing its verdicts', async () => {
    const before = readFileSync(join(state, 'scans.ndjson'), 'utf8');
    dropFile(spool, 'late.log', lateText);
    writeFileSync(join(all, 'late.log'), lateText);
    const st = await until(async () => {
      const b = (await get('/v1/status')).body;
      return b.late_records > 0 ? b : null;
    }, 20_000, 'late records');
    expect(st.late_records).toBe(10);
    const day = (await get(`/v1/stats?day=${DAY}`)).body;
    expect(day.late_records).toBe(10);
    expect(day.windows[2]).toMatchObject({ late_records: 10, finalized: true });
    expect((await get('/metrics')).text).toMatch(/flowsieve_late_records_total 10/);
    expect((await get('/v1/scanners/45.99.99.99')).status).toBe(404);
    expect(readFileSync(join(state, 'scans.ndjson'), 'utf8')).toBe(before);
  });

  it('stops on SIGTERM; --reprocess rebuilds the day from its files, late records included', async () => {
    expect(await stopServe(serve)).toBe(0);
    expect(serve.log()).toMatch(/SIGTERM: finishing the current batch/);
    const lines = readFileSync(join(state, 'scans.ndjson'), 'utf8').trim().split('\n').length;
    // a day with open windows cannot be rebuilt
    const early = spawnSync(process.execPath, [CLI, 'serve', ...args(), '--listen', '127.0.0.1:0', '--reprocess', '2023-11-16'], { encoding: 'utf8', timeout: 30_000 });
    expect(early.status).toBe(1);
    expect(early.stderr).toMatch(/2023-11-16: the day still has open windows/);

    serve = await startServe([...args(), '--reprocess', DAY]);
    await serve.waitLog(/reprocessed 2023-11-15 from \d+ file\(s\)/);
    await serve.waitLog(/ready: batch/);
    const expected = await runDetect([all], { windowSeconds: W });
    const want = expected.scans.filter((v: any) => v.window * W < T0 + 86400);
    const r = (await get('/v1/scanners/45.99.99.99')).body;
    expect(r.scans).toHaveLength(1);
    expect(r.scans[0]).toMatchObject({ window_start: '2023-11-15T02:00:00Z', dst_port: 8080, endpoints: 10 });
    const day = (await get(`/v1/stats?day=${DAY}`)).body;
    expect(day.scan_keys).toBe(want.length);
    expect(day.late_records).toBe(0);
    expect(day.windows[2]).toMatchObject({ reprocessed: true, late_records: 0, scans: want.filter((v: any) => v.window === T0 / W + 2).length });
    expect(day.windows.reduce((n: number, w: any) => n + w.scans, 0)).toBe(want.length);
    // the shared history has the rebuilt day, in place of the first one
    const hist = openSqlite(join(state, 'flowsieve-history.sqlite'));
    try {
      expect(hist.all('SELECT COUNT(*) AS n FROM runs')[0].n).toBe(1);
      const ips = hist.all("SELECT i.ip FROM scanner_days d JOIN ips i USING (ip_id) WHERE d.day = ?", DAY).map((r: any) => r.ip);
      expect(ips).toContain('45.99.99.99');
      expect(ips.length).toBe(new Set(want.map((v: any) => v.src)).size);
    } finally {
      hist.close();
    }
    const h = spawnSync(process.execPath, [CLI, 'history', '--state', state], { encoding: 'utf8' });
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toContain(DAY);
    // the rebuilt day is appended again to scans.ndjson (the latest line of a key wins)
    const after = readFileSync(join(state, 'scans.ndjson'), 'utf8').trim().split('\n');
    expect(after.slice(lines)).toEqual(want.map((v: any) => JSON.stringify(scanRecord(v, W))));
  });
});

describe('serve: listening address and token', () => {
  const dir = tempDir();
  for (const s of ['s', 's2']) mkdirSync(join(dir, s)); // the spool must exist: a mistyped path is refused
  const run = (extra: string[]) =>
    spawnSync(process.execPath, [CLI, 'serve', '--spool', join(dir, 's'), '--state', join(dir, 'st'), ...extra], { encoding: 'utf8', timeout: 30_000 });

  it('refuses a non-loopback address without a token', () => {
    for (const listen of ['0.0.0.0:0', '[::]:0', '192.0.2.1:9310']) {
      const r = run(['--listen', listen]);
      expect(r.status, listen).toBe(1);
      expect(r.stderr).toMatch(/refusing to listen on .* not a loopback address, without --token-file/);
    }
  });

  it('rejects bad options with exit 1', () => {
    writeFileSync(join(dir, 'short'), 'abc\n');
    expect(run(['--token-file', join(dir, 'short')]).stderr).toMatch(/at least 16 characters/);
    expect(run(['--listen', 'nonsense']).stderr).toMatch(/--listen must be HOST:PORT, \[IPV6\]:PORT or PORT/);
    expect(run(['--reprocess', '2023-02-30']).stderr).toMatch(/--reprocess must be a UTC day, YYYY-MM-DD, got '2023-02-30'/);
    expect(run(['--lateness', 'soon']).stderr).toMatch(/--lateness must be a duration/);
    expect(spawnSync(process.execPath, [CLI, 'serve', '--state', dir], { encoding: 'utf8' }).stderr).toMatch(/needs --spool/);
    const nested = spawnSync(process.execPath, [CLI, 'serve', '--spool', join(dir, 's'), '--state', join(dir, 's', 'state')], { encoding: 'utf8' });
    expect(nested.status).toBe(1);
    expect(nested.stderr).toMatch(/--state must not be inside --spool/);
  });

  it('listens on all interfaces when a token is given', async () => {
    writeFileSync(join(dir, 'token'), TOKEN);
    const s = await startServe(['--spool', join(dir, 's2'), '--state', join(dir, 'st2'), '--listen', '0.0.0.0:0', '--token-file', join(dir, 'token')]);
    expect(s.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    await s.waitLog(/ready/);
    expect((await getJson(s.url.replace('0.0.0.0', '127.0.0.1') + '/metrics')).status).toBe(401);
    expect(await stopServe(s)).toBe(0);
  });
});
