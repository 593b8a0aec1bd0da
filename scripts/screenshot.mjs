#!/usr/bin/env node
/**
 * The README's screenshot from the current demo: renders a report (flowsieve report --out
 * FILE.html) in chromium (playwright-core, the system's /usr/bin/chromium or $CHROMIUM) and
 * writes a full-page PNG.
 *
 *   npm run demo && node dist/src/cli/main.js report --scans out --out out/report.html
 *   node scripts/screenshot.mjs out/report.html docs/images/report-generated-sample.png
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: node scripts/screenshot.mjs REPORT.html OUT.png');
  process.exit(1);
}
const userDataDir = mkdtempSync(join(tmpdir(), 'flowsieve-screenshot-'));
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1300, height: 900 },
  args: ['--no-sandbox'],
});
try {
  const page = await ctx.newPage();
  await page.goto(`file://${resolve(html)}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 }); // every chart drawn
  await page.screenshot({ path: png, fullPage: true });
  console.log(`screenshot: ${png}`);
} finally {
  await ctx.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
