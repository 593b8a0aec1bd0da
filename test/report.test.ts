import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { writeThreeDays } from './helpers/days.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const read = (p: string) => readFileSync(p, 'utf8');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url).pathname;

/** The enrichment an analyst run would add to the scanner IPs of the three test days (documentation ASNs). */
const FACTS: Record<string, { country: string; asn: number; as_org: string; actor: string | null }> = {
  '45.10.0.1': { country: 'DE', asn: 64500, as_org: 'Example Research Net', actor: 'Example Research' },
  '45.10.0.2': { country: 'US', asn: 64501, as_org: 'Example Cloud', actor: null },
  '45.10.0.3': { country: 'US', asn: 64501, as_org: 'Example Cloud', actor: null },
  '45.10.0.4': { country: 'CN', asn: 64502, as_org: 'Example Telecom', actor: null },
  '45.10.0.5': { country: 'US', asn: 64503, as_org: 'Other Scanner Co', actor: 'Other Scanner' },
  '45.10.0.6': { country: 'BR', asn: 64504, as_org: 'Example ISP', actor: null },
};

const fx = { dir: '', state: '', run: '', enriched: '', columnsOnly: '' };

/**
 * A run folder as the analyst's detect writes it: scans.ndjson with enrichment columns (plus
 * one scan of tcp/7001, whose name only the statistics know), summary.json `stats`, and
 * stats/ports.ndjson and stats/endpoints.ndjson. With `withStats` false, only the columns.
 */
function enrich(from: string, to: string, withStats: boolean): void {
  cpSync(from, to, { recursive: true });
  const scans = read(join(from, 'scans.ndjson')).trim().split('\n').map((l) => JSON.parse(l));
  scans.push({ ...scans[scans.length - 1], src: '45.10.0.6', dst_port: 7001, window_start: '2024-03-02T00:00:00Z', window_end: '2024-03-02T06:00:00Z', first_seen: '2024-03-02T01:00:00Z', last_seen: '2024-03-02T01:00:30Z' });
  writeFileSync(join(to, 'scans.ndjson'), scans.map((s) => JSON.stringify({ ...s, ...FACTS[s.src] })).join('\n') + '\n');
  if (!withStats) {
    // detect writes statistics even without enrichment: remove them for the columns-only shape
    rmSync(join(to, 'stats'), { recursive: true, force: true });
    const summary = JSON.parse(read(join(from, 'summary.json')));
    delete summary.stats;
    writeFileSync(join(to, 'summary.json'), JSON.stringify(summary));
    return;
  }
  const ips = Object.keys(FACTS);
  const group = (key: (ip: string) => string) => {
    const m = new Map<string, number>();
    for (const ip of ips) m.set(key(ip), (m.get(key(ip)) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  };
  const summary = JSON.parse(read(join(from, 'summary.json')));
  summary.stats = {
    schema: 1,
    countries: { top: group((ip) => FACTS[ip]!.country).map(([country, n]) => ({ country, scanner_ips: n, share_of_scanner_ips: n / ips.length, scan_keys: n, flows: 10 * n })) },
    networks: { top: group((ip) => String(FACTS[ip]!.asn)).map(([asn, n]) => ({ asn: Number(asn), as_org: Object.values(FACTS).find((f) => f.asn === Number(asn))!.as_org, scanner_ips: n, flows: 10 * n })) },
    actors: { labelled_scanner_ips: 2, table: [
      { actor: 'Example Research', scanner_ips: 1, scan_keys: 4, flows: 46, matched_by: ['cidr'], sources: ['builtin'], top_ports: ['tcp/22', 'tcp/23'] },
      { actor: 'Other Scanner', scanner_ips: 1, scan_keys: 1, flows: 13, matched_by: ['asn'], sources: ['user.txt'], top_ports: ['tcp/3389'] },
    ] },
    ports: { service_names: 'IANA (test)', top_per_protocol: [{ protocol: 6, by_scanner_ips: [{ protocol: 6, port: 7001, service: 'afs3-callback' }] }] },
    endpoints: { all: { day: 'all', endpoints: 5, scanner_ips: { count: 5, min: 1, mean: 14.2, median: 2, p95: 60, max: 60 }, ports: { count: 5, min: 1, mean: 43.8, median: 3, p95: 200, max: 200 } } },
  };
  writeFileSync(join(to, 'summary.json'), JSON.stringify(summary));
  mkdirSync(join(to, 'stats'), { recursive: true });
  writeFileSync(join(to, 'stats', 'ports.ndjson'), JSON.stringify({ protocol: 6, port: 3389, service: 'ms-wbt-server', scanner_ips: 1 }) + '\n');
  const rows = [[1, 1], [1, 3], [2, 3], [7, 12], [60, 200]].map(([s, p], k) => ({ day: '2024-03-01', cloud: 'aws', account: '123456789012', endpoint: `10.0.0.${k + 1}`, scanner_ips: s, ports: p }));
  writeFileSync(join(to, 'stats', 'endpoints.ndjson'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

beforeAll(() => {
  fx.dir = tempDir('flowsieve-report-');
  const inDir = join(fx.dir, 'in');
  mkdirSync(inDir);
  writeThreeDays(inDir);
  fx.state = join(fx.dir, 'state');
  fx.run = join(fx.dir, 'run');
  // --no-enrich: fx.run stands for a run without enrichment; enrich() below builds the enriched variants
  const r = cli(['detect', inDir, '--out', fx.run, '--workers', '1', '--state', fx.state, '--quiet', '--no-enrich']);
  expect(r.status, r.stderr).toBe(0);
  fx.enriched = join(fx.dir, 'enriched');
  enrich(fx.run, fx.enriched, true);
  fx.columnsOnly = join(fx.dir, 'columns-only');
  enrich(fx.run, fx.columnsOnly, false);
});

function report(args: string[]): { text: string; stderr: string } {
  const out = join(fx.dir, `r-${Math.random().toString(36).slice(2)}`);
  const r = cli(['report', ...args, '--out', out]);
  expect(r.status, r.stderr).toBe(0);
  return { text: read(out), stderr: r.stderr };
}

/** The Markdown table rows under a "## title" heading. */
function section(md: string, title: string): string {
  const start = md.indexOf(`## ${title}`);
  expect(start, `section ${title}`).toBeGreaterThanOrEqual(0);
  const end = md.indexOf('\n## ', start + 3);
  return md.slice(start, end < 0 ? undefined : end);
}

describe('report as Markdown', () => {
  it('shows the run and the history of the three test days, and says where data is missing', () => {
    const { text: md, stderr } = report(['--state', fx.state, '--scans', fx.run, '--format', 'md']);
    expect(stderr).toMatch(/6 of 8 charts with data \(no data: countries, networks\)/);
    expect(md).toMatch(/^# flowsieve scanner report/);
    expect(md).toContain('| scanner IPs (run) | 5 |');
    expect(md).toContain('| scan keys (run) | 9 |');
    expect(md).toContain('| scanning flows (run) | 120 |');
    expect(md).toContain('| scanner IPs (history) | 5 |');
    expect(md).toContain('| seen on one day only (history) | 60.0 % |');
    expect(md).toContain('| seen on every day (history) | 20.0 % |');
    expect(md).toContain('| persistent scanners (history) | 1 |');
    expect(section(md, 'Top 20 TCP ports')).toContain('| 23 telnet | 2 | 21 |\n| 22 ssh | 1 | 36 |\n| 445 microsoft-ds | 1 | 30 |\n| 3389 ms-wbt-server | 1 | 13 |');
    expect(section(md, 'Top 10 UDP ports')).toContain('| 5060 sip | 1 | 20 |');
    expect(section(md, 'Days observed per scanner IP')).toContain('| 1 day | 3 |\n| 2 days | 1 |\n| 3 days | 1 |');
    expect(section(md, 'Scanner IPs and scanned ports per day')).toContain('| 2024-03-01 | 4 | 4 |\n| 2024-03-02 | 2 | 3 |\n| 2024-03-03 | 2 | 2 |');
    expect(section(md, 'TCP / UDP / other share')).toContain('| TCP | 100 | 4 |\n| UDP | 20 | 1 |\n| other | 0 | 0 |');
    expect(section(md, 'Per endpoint and day')).toMatch(/48 endpoint-days/); // from the history's endpoint-days
    expect(section(md, 'Top 20 countries')).toMatch(/> No data: no country data/);
    expect(section(md, 'Persistent scanners')).toMatch(/\| 45\.10\.0\.1 \| 3 \| 2024-03-01 \| 2024-03-03 \| 2 \| tcp\/22 tcp\/23 \| 46 \|/);
    expect(section(md, 'Known scanning services')).toMatch(/> No data: no actor labels/);
  });

  it('reads the analyst statistics and enrichment columns when present', () => {
    const { text: md } = report(['--state', fx.state, '--scans', fx.enriched, '--format', 'md']);
    const countries = section(md, 'Top 20 countries');
    expect(countries).toContain('_source: summary.json stats_');
    expect(countries).toContain('| US | 3 |\n| BR | 1 |\n| CN | 1 |\n| DE | 1 |');
    expect(section(md, 'Top 20 networks')).toContain('| AS64501 Example Cloud | 2 |');
    expect(section(md, 'Top 20 TCP ports')).toContain('| 7001 afs3-callback | 1 |');
    const ep = section(md, 'Per endpoint and day');
    expect(ep).toContain('stats/endpoints.ndjson');
    expect(ep).toContain('| 1 | 2 | 1 |\n| 2-5 | 1 | 2 |\n| 6-10 | 1 | 0 |\n| 11-50 | 0 | 1 |\n| 51-100 | 1 | 0 |\n| 101-500 | 0 | 1 |');
    expect(section(md, 'Known scanning services')).toContain('| Example Research | 1 | 4 | 46 | cidr | tcp/22 tcp/23 |');
    expect(md).toContain('| scanner IPs (run) | 6 |'); // 45.10.0.6 is only in the enriched run
    // the history has no enrichment: the persistent scanner's facts come from the run
    expect(section(md, 'Persistent scanners')).toContain('| DE | AS64500 Example Research Net | Example Research |');

    // the same figures from the enrichment columns alone
    const { text: md2 } = report(['--scans', fx.columnsOnly, '--format', 'md']);
    const c2 = section(md2, 'Top 20 countries');
    expect(c2).toContain('columns-only/scans.ndjson');
    expect(c2).toContain('| US | 3 |\n| DE | 1 |\n| CN | 1 |\n| BR | 1 |'); // ties: more flows first
    expect(section(md2, 'Known scanning services')).toContain('| Example Research | 1 | 4 | 46 | actor column | tcp/22 tcp/23 |');
    expect(section(md2, 'Persistent scanners')).toContain('| DE | AS64500 Example Research Net | Example Research |');
    expect(section(md2, 'Per endpoint and day')).toMatch(/> No data: no per-endpoint data/);
  });

  it('tolerates damaged or foreign files and needs at least one source', () => {
    const bad = join(fx.dir, 'damaged');
    cpSync(fx.run, bad, { recursive: true });
    writeFileSync(join(bad, 'summary.json'), '{"stats": ');
    writeFileSync(join(bad, 'scans.ndjson'), read(join(bad, 'scans.ndjson')) + 'garbage\n{"src": "x"}\n');
    mkdirSync(join(bad, 'stats'), { recursive: true });
    writeFileSync(join(bad, 'stats', 'endpoints.ndjson'), '{"day": 3}\n');
    const { text: md, stderr } = report(['--scans', bad, '--format', 'md']);
    expect(stderr).toMatch(/summary\.json: not readable JSON/);
    expect(md).toMatch(/scans\.ndjson: 2 line\(s\) without the scan fields/);
    expect(md).toContain('| scanner IPs | 5 |');
    expect(cli(['report', '--out', join(fx.dir, 'x.md')]).stderr).toMatch(/needs --state DIR, --scans DIR, or both/);
    expect(cli(['report', '--scans', join(fx.dir, 'in'), '--out', join(fx.dir, 'x.md')]).stderr).toMatch(/has no scans\.ndjson/);
    expect(cli(['report', '--scans', fx.run, '--out', join(fx.dir, 'x.md'), '--format', 'pdf']).status).toBe(1);
    const stateOnly = report(['--state', fx.state, '--format', 'md']).text;
    expect(stateOnly).toContain('| scanner IPs | 5 |');
    expect(section(stateOnly, 'Top 20 TCP ports')).toContain('| 23 telnet | 2 | 21 |');
  });
});

describe('report as HTML', () => {
  it('is one self-contained file with Chart.js and the data inlined', () => {
    const { text: html } = report(['--state', fx.state, '--scans', fx.run]);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('Chart.js v4.6.1');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|url\(\s*['"]?https?:|@import/i);
    const data = JSON.parse(html.match(/<script type="application\/json" id="report-data">([^<]*)<\/script>/)![1]!);
    expect(data.charts.map((c: { id: string }) => c.id)).toEqual(['countries', 'networks', 'tcp-ports', 'udp-ports', 'days-observed', 'daily', 'protocol-share', 'endpoints']);
    expect(html.match(/<canvas /g)).toHaveLength(6);
    expect(html).toContain('data-no-data="countries">No data: no country data');
    expect(html).toContain('<td>45.10.0.1</td><td class="n">3</td>');
  });

  it('escapes text from the data', () => {
    const odd = join(fx.dir, 'odd');
    enrich(fx.run, odd, false);
    const lines = read(join(odd, 'scans.ndjson')).trim().split('\n').map((l) => JSON.parse(l));
    writeFileSync(join(odd, 'scans.ndjson'), lines.map((s) => JSON.stringify({ ...s, as_org: '</script><b>x</b>' })).join('\n') + '\n');
    const { text: html } = report(['--scans', odd]);
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;');
    expect(html).toContain('\\u003c/script>\\u003cb>x\\u003c/b>');
  });
});

interface ChartCheck {
  id: string;
  canvas: boolean;
  noData: boolean;
  points: number;
  painted: number;
  area: number;
  marks: Array<{ dataset: string; found: boolean }>;
}

describe('report in a headless browser', () => {
  const have = existsSync(CHROMIUM);
  const inCi = process.env.CI === 'true' || process.env.CI === '1';
  if (!have) console.warn(`report browser test SKIPPED: ${CHROMIUM} is missing (install it: apt-get update && apt-get install -y chromium)`);

  // CI installs chromium (.ci/run): there a missing browser is a failure, not a skip
  it.runIf(!have && inCi)('has a browser in CI', () => {
    throw new Error(`${CHROMIUM} is missing in CI: .ci/run should have installed it`);
  });

  it.skipIf(!have)('loads with no console errors and every chart draws its marks', async () => {
    const { chromium } = await import('playwright-core');
    const htmlFile = join(fx.dir, 'report.html');
    const r = cli(['report', '--state', fx.state, '--scans', fx.enriched, '--out', htmlFile]);
    expect(r.status, r.stderr).toBe(0);
    const plainFile = join(fx.dir, 'plain.html');
    expect(cli(['report', '--state', fx.state, '--scans', fx.run, '--out', plainFile]).status).toBe(0);

    const userDataDir = mkdtempSync(join(tmpdir(), 'flowsieve-chromium-'));
    const ctx = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1300, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await ctx.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (q) => { if (!q.url().startsWith('file:')) requests.push(q.url()); });

      await page.goto(`file://${htmlFile}`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      const state = await page.evaluate(() => (window as unknown as { flowsieveReport: { drawn: string[]; errors: string[] } }).flowsieveReport);
      expect(state.errors).toEqual([]);
      expect(state.drawn).toHaveLength(8);
      const checks: ChartCheck[] = await page.evaluate(CHECK_CHARTS);
      for (const c of checks) {
        expect(c.canvas, c.id).toBe(true);
        expect(c.points, c.id).toBeGreaterThan(0);
        expect(c.painted / c.area, `${c.id}: share of painted pixels`).toBeGreaterThan(0.01);
        for (const m of c.marks) expect(m.found, `${c.id}: a mark of '${m.dataset}' in its colour`).toBe(true);
      }
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });

      // the plain run: countries and networks show their note, the rest still draws
      await page.goto(`file://${plainFile}`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      const plain: ChartCheck[] = await page.evaluate(CHECK_CHARTS);
      expect(plain.filter((c) => c.noData).map((c) => c.id)).toEqual(['countries', 'networks']);
      expect(plain.filter((c) => c.canvas && c.painted > 0)).toHaveLength(6);
      expect(await page.isVisible('[data-no-data="countries"]')).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'report-no-enrichment.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]); // nothing but the file itself
    } finally {
      await ctx.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});

/**
 * In the page: for every chart, whether it has a canvas with data points, how many pixels are
 * painted, and per dataset whether one of its elements has its colour at its centre (so the
 * bars, points and arcs were really drawn, not only axes and labels).
 */
const CHECK_CHARTS = `(() => {
  const hex = (c) => { const m = /^#([0-9a-f]{6})$/i.exec(String(c)); return m ? [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16)) : null; };
  return [...document.querySelectorAll('figure[data-chart]')].map((fig) => {
    const id = fig.getAttribute('data-chart');
    const canvas = fig.querySelector('canvas');
    const noData = Boolean(fig.querySelector('[data-no-data]'));
    if (!canvas) return { id, canvas: false, noData, points: 0, painted: 0, area: 1, marks: [] };
    const chart = Chart.getChart(canvas);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < img.length; i += 4) if (img[i] > 0) painted++;
    const ratio = chart.currentDevicePixelRatio;
    const marks = chart.data.datasets.map((ds, di) => {
      const meta = chart.getDatasetMeta(di);
      const found = ds.data.some((v, k) => {
        if (!(v > 0)) return false;
        const want = hex(Array.isArray(ds.backgroundColor) ? ds.backgroundColor[k] : ds.backgroundColor);
        const p = meta.data[k].getCenterPoint();
        const px = ctx.getImageData(Math.round(p.x * ratio), Math.round(p.y * ratio), 1, 1).data;
        return want && px[3] === 255 && want.every((c, j) => Math.abs(c - px[j]) <= 10);
      });
      return { dataset: ds.label, found };
    });
    return { id, canvas: true, noData, points: chart.data.datasets.reduce((s, d) => s + d.data.length, 0), painted, area: canvas.width * canvas.height, marks };
  });
})()`;
