/**
 * The report shows what the run found besides the charts (issue 15): the outbound and
 * internal-scan alerts and every scanner IP in a sortable table, in HTML and Markdown;
 * in Chromium: the alerts table, sorting, dates on one line, long AS names cut in the
 * network chart instead of pushing it off the left edge.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const HDR = 'version account-id interface-id instance-id srcaddr dstaddr srcport dstport protocol packets bytes start end flow-direction log-status';
const T0 = 1709287200;
const aws = (src: string, dst: string, dport: number, dir: string, t: number, iface = 'eni-1', inst = 'i-1') =>
  `5 123456789012 ${iface} ${inst} ${src} ${dst} 40000 ${dport} 6 1 40 ${t} ${t} ${dir} OK`;

describe('report: alerts and the scanner list', () => {
  const dir = tempDir();
  const run = join(dir, 'run');
  beforeAll(() => {
    const rows = [HDR];
    // scanners whose networks have long names (RIPE NCC, NIC.BR), and others
    const scanners: Array<[string, number]> = [['193.0.14.129', 12], ['200.160.2.3', 15], ['45.77.1.2', 11], ['80.82.77.33', 20]];
    for (const [ip, n] of scanners) for (let k = 0; k < n; k++) rows.push(aws(ip, `10.0.1.${k + 1}`, 22, 'ingress', T0 + k));
    for (let k = 0; k < 120; k++) rows.push(aws('10.0.0.5', `81.2.${k >> 8}.${(k & 255) + 1}`, 23, 'egress', T0 + k, 'eni-w', 'i-worm'));
    for (let k = 0; k < 25; k++) rows.push(aws('10.0.0.6', `10.0.2.${k + 1}`, 445, 'egress', T0 + k, 'eni-l', 'i-lat'));
    writeFileSync(join(dir, 'flows.log'), rows.join('\n') + '\n');
    const r = cli(['detect', join(dir, 'flows.log'), '--out', run, '--workers', '2', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
  });

  it('Markdown lists the alerts and every scanner', () => {
    const md = join(dir, 'report.md');
    expect(cli(['report', '--scans', run, '--out', md, '--format', 'md']).status).toBe(0);
    const text = readFileSync(md, 'utf8');
    expect(text).toContain('## Compromised-host and internal-scan alerts (2)');
    expect(text).toMatch(/\| internal scan \(lateral movement\) \| low \| 10\.0\.0\.6 \| aws 123456789012 \| eni-l \| i-lat \| tcp\/445 \| 25 \|/);
    expect(text).toMatch(/\| compromised host: outbound scan \| \w+ \| 10\.0\.0\.5 \| aws 123456789012 \| eni-w \| i-worm \| tcp\/23 \| 120 \|/);
    expect(text).toContain('## All scanner IPs (4)');
    expect(text).toMatch(/\| 193\.0\.14\.129 \| 1 \| .* \| NL \| AS25152 Reseaux IP Europeens/);
  });

  const have = existsSync(CHROMIUM);
  if (!have) console.warn(`report-alerts browser test SKIPPED: ${CHROMIUM} is missing`);
  it.skipIf(!have)('in Chromium: alerts shown, the scanner list sorts, dates do not wrap, long AS names are cut', async () => {
    const { chromium } = await import('playwright-core');
    const html = join(dir, 'report.html');
    expect(cli(['report', '--scans', run, '--out', html]).status).toBe(0);
    const userDataDir = mkdtempSync(join(tmpdir(), 'flowsieve-chromium-'));
    const ctx = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM, headless: true, viewport: { width: 1000, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await page.goto(`file://${html}`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      const alertRows = await page.$$eval('#table-alerts tbody tr', (trs) => trs.map((tr) => (tr as HTMLTableRowElement).cells[3]!.textContent));
      expect(alertRows).toEqual(['10.0.0.5', '10.0.0.6']);
      expect(await page.isVisible('#table-alerts')).toBe(true);
      // sort the scanner list by flows (column 8), twice
      const ips = () => page.$$eval('#table-scanners tbody tr', (trs) => trs.map((tr) => (tr as HTMLTableRowElement).cells[0]!.textContent));
      const flowsHead = page.locator('#table-scanners th', { hasText: 'flows' });
      await flowsHead.click();
      expect(await ips()).toEqual(['45.77.1.2', '193.0.14.129', '200.160.2.3', '80.82.77.33']);
      await flowsHead.click();
      expect(await ips()).toEqual(['80.82.77.33', '200.160.2.3', '193.0.14.129', '45.77.1.2']);
      // a date cell is one line high
      const lines = await page.$$eval('#table-scanners td.d', (tds) => tds.map((td) => {
        // line boxes of the text (the cell itself is as tall as its row)
        const r = document.createRange();
        r.selectNodeContents(td);
        return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size;
      }));
      expect(lines.length).toBe(8); // first and last seen of 4 scanners
      for (const l of lines) expect(l).toBe(1);
      // the network chart's labels are cut, and its plot keeps most of the width
      const net = await page.evaluate(() => {
        const canvas = document.querySelector('#c-networks') as HTMLCanvasElement | null;
        const chart = canvas && (window as any).Chart.getChart(canvas);
        if (!chart) return null;
        return { labels: chart.scales.y.ticks.map((t: any) => String(t.label)), left: chart.chartArea.left, width: chart.width };
      });
      expect(net).not.toBeNull();
      expect(Math.max(...net!.labels.map((l: string) => l.length))).toBeLessThanOrEqual(36);
      expect(net!.labels.some((l: string) => l.endsWith('…'))).toBe(true);
      expect(net!.left / net!.width).toBeLessThan(0.5);
      expect(errors).toEqual([]);
    } finally {
      await ctx.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});
