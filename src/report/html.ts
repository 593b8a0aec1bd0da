/**
 * The report as ONE self-contained HTML file: styles, data and Chart.js (MIT, inlined from
 * the installed chart.js package) are all inside it, so it opens with no network. Every
 * chart has its numbers in a data table beside it, and a chart with no data shows a note
 * saying why instead of an empty canvas.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ChartSpec, ReportModel, TableSpec } from './model.js';

const require = createRequire(import.meta.url);

/** The Chart.js UMD bundle (defines the global `Chart`). */
export function chartJsSource(): { source: string; version: string } {
  const main = require.resolve('chart.js'); // .../chart.js/dist/chart.cjs
  const root = dirname(dirname(main));
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  return { source: readFileSync(join(root, 'dist', 'chart.umd.js'), 'utf8'), version };
}

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element. */
function scriptJson(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Script text that cannot close its element early. */
function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}

const STYLE = `
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; --card: #fff; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 1280px; margin: 0 auto; padding: 16px 24px; }
header h1 { margin: 8px 0 4px; font-size: 24px; }
.meta { color: var(--muted); margin: 2px 0; }
.headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 12px; margin: 16px 0; }
.fig { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.fig .v { font-size: 22px; font-weight: 600; }
.fig .l { color: var(--muted); font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(540px, 1fr)); gap: 16px; }
figure, section.table { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
section.table { margin-top: 16px; }
h2 { font-size: 16px; margin: 0 0 2px; }
.source, .caption { color: var(--muted); font-size: 12px; margin: 0 0 6px; }
.box { position: relative; width: 100%; }
.no-data { display: flex; align-items: center; justify-content: center; min-height: 120px; border: 1px dashed #cbd5e1;
  border-radius: 6px; color: #475569; background: #f8fafc; padding: 12px; text-align: center; }
details { margin-top: 6px; } summary { cursor: pointer; color: var(--accent); font-size: 12px; }
.scroll { overflow-x: auto; max-height: 640px; overflow-y: auto; }
table { border-collapse: collapse; width: 100%; font-size: 12px; margin-top: 6px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
td.d { white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; position: sticky; top: 0; background: var(--card); }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.notes { color: #92400e; background: #fffbeb; border: 1px solid #fde68a; border-radius: 6px; padding: 8px 12px; }
.error { color: #991b1b; }
`;

/** Draws every chart of the model with Chart.js; sets document.body.dataset.ready when done. */
const RENDER = `
(function () {
  var model = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#2563eb', '#f97316', '#16a34a', '#dc2626', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];
  var drawn = [], errors = [];
  function axisTitle(t) { return t ? { display: true, text: t } : { display: false }; }
  function config(c) {
    var sets = c.datasets.filter(function (d) { return !d.tableOnly; });
    var common = { animation: false, responsive: true, maintainAspectRatio: false,
      plugins: { legend: { display: sets.length > 1 || c.type === 'doughnut' } } };
    if (c.type === 'doughnut') {
      return { type: 'doughnut', data: { labels: c.labels, datasets: sets.map(function (d) {
        return { label: d.label, data: d.data, backgroundColor: palette.slice(0, c.labels.length) }; }) }, options: common };
    }
    if (c.type === 'line') {
      common.scales = { x: { title: axisTitle(c.xTitle) },
        y: { beginAtZero: true, position: 'left', ticks: { precision: 0 }, title: axisTitle(c.yTitle) },
        y2: { beginAtZero: true, position: 'right', ticks: { precision: 0 }, title: axisTitle(c.y2Title), grid: { drawOnChartArea: false } } };
      return { type: 'line', data: { labels: c.labels, datasets: sets.map(function (d, i) {
        return { label: d.label, data: d.data, yAxisID: d.axis || 'y', borderColor: palette[i], backgroundColor: palette[i], pointRadius: 4, tension: 0 }; }) }, options: common };
    }
    var horizontal = c.type === 'hbar';
    var value = { beginAtZero: true, ticks: { precision: 0 }, title: axisTitle(horizontal ? c.xTitle : c.yTitle) };
    // long labels (AS names) would push the plot off the left edge: cut them to 36 characters
    var category = { title: axisTitle(horizontal ? c.yTitle : c.xTitle), ticks: { autoSkip: false, callback: function (v) {
      var l = String(this.getLabelForValue(v)); return l.length > 36 ? l.slice(0, 35) + '\u2026' : l; } } };
    common.indexAxis = horizontal ? 'y' : 'x';
    common.scales = horizontal ? { x: value, y: category } : { x: category, y: value };
    return { type: 'bar', data: { labels: c.labels, datasets: sets.map(function (d, i) {
      return { label: d.label, data: d.data, backgroundColor: palette[i % palette.length] }; }) }, options: common };
  }
  model.charts.forEach(function (c) {
    if (c.noData) return;
    var canvas = document.getElementById('c-' + c.id);
    try {
      if (typeof Chart === 'undefined') throw new Error('Chart.js did not load');
      new Chart(canvas, config(c));
      drawn.push(c.id);
    } catch (e) {
      errors.push(c.id + ': ' + e.message);
      var p = document.createElement('p');
      p.className = 'no-data error';
      p.textContent = 'This chart could not be drawn: ' + e.message + ' (its numbers are in the table below it)';
      canvas.parentNode.replaceChild(p, canvas);
    }
  });
  // sortable tables: a click on a heading sorts by that column (numbers by value), again reverses
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.querySelectorAll('th');
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          var p = x.className === 'n' && y.className === 'n' ? Number(x.textContent.replace(/,/g, '')) - Number(y.textContent.replace(/,/g, ''))
            : x.textContent.localeCompare(y.textContent, undefined, { numeric: true });
          return asc ? p : -p;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  window.flowsieveReport = { charts: model.charts.length, drawn: drawn, errors: errors };
  document.body.setAttribute('data-ready', 'true');
})();
`;

function numCell(x: unknown): string {
  if (typeof x === 'number') return `<td class="n">${escapeHtml(x.toLocaleString('en-US'))}</td>`;
  // dates do not wrap: a table scrolls sideways instead
  const nowrap = typeof x === 'string' && /^\d{4}-\d\d-\d\d/.test(x);
  return `<td${nowrap ? ' class="d"' : ''}>${escapeHtml(x ?? '')}</td>`;
}

function chartHeight(c: ChartSpec): number {
  return c.type === 'hbar' ? Math.max(220, 24 * c.labels.length + 70) : 320;
}

function dataTable(c: ChartSpec): string {
  if (c.noData) return '';
  const head = `<tr><th></th>${c.datasets.map((d) => `<th class="n">${escapeHtml(d.label)}</th>`).join('')}</tr>`;
  const rows = c.labels.map((l, i) => `<tr><td>${escapeHtml(l)}</td>${c.datasets.map((d) => numCell(d.data[i])).join('')}</tr>`).join('');
  return `<details><summary>numbers</summary><table>${head}${rows}</table></details>`;
}

function chartHtml(c: ChartSpec): string {
  const body = c.noData
    ? `<div class="no-data" data-no-data="${escapeHtml(c.id)}">No data: ${escapeHtml(c.noData)}</div>`
    : `<div class="box" style="height:${chartHeight(c)}px"><canvas id="c-${escapeHtml(c.id)}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div>`;
  return `<figure id="chart-${escapeHtml(c.id)}" data-chart="${escapeHtml(c.id)}">
<h2>${escapeHtml(c.title)}</h2>
<p class="source">source: ${escapeHtml(c.source)}</p>
${c.caption ? `<p class="caption">${escapeHtml(c.caption)}</p>` : ''}
${body}
${dataTable(c)}
</figure>`;
}

function tableHtml(t: TableSpec): string {
  const body = t.noData
    ? `<div class="no-data" data-no-data="${escapeHtml(t.id)}">No data: ${escapeHtml(t.noData)}</div>`
    : `<div class="scroll"><table${t.sortable ? ' class="sortable"' : ''}><thead><tr>${t.columns.map((c, i) => `<th${t.rows.some((r) => typeof r[i] === 'number') ? ' class="n"' : ''}>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${t.rows.map((r) => `<tr>${r.map(numCell).join('')}</tr>`).join('')}</tbody></table></div>`;
  return `<section class="table" id="table-${escapeHtml(t.id)}">
<h2>${escapeHtml(t.title)}${t.noData ? '' : ` (${t.rows.length})`}</h2>
<p class="source">source: ${escapeHtml(t.source)}</p>
${t.caption ? `<p class="caption">${escapeHtml(t.caption)}</p>` : ''}
${body}
</section>`;
}

export function renderHtml(m: ReportModel): string {
  const chart = chartJsSource();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="flowsieve report; Chart.js ${escapeHtml(chart.version)}">
<title>${escapeHtml(m.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(m.title)}</h1>
<p class="meta">generated ${escapeHtml(m.generatedAt)}</p>
${m.sources.map((s) => `<p class="meta">${escapeHtml(s)}</p>`).join('\n')}
</header>
<main>
${m.notes.length ? `<div class="notes">${m.notes.map((n) => `<div>${escapeHtml(n)}</div>`).join('')}</div>` : ''}
<section class="headline">
${m.headline.map((h) => `<div class="fig"><div class="v">${escapeHtml(h.value)}</div><div class="l">${escapeHtml(h.label)}</div></div>`).join('\n')}
</section>
<div class="grid">
${m.charts.map(chartHtml).join('\n')}
</div>
${m.tables.map(tableHtml).join('\n')}
</main>
<script>${scriptText(chart.source)}</script>
<script type="application/json" id="report-data">${scriptJson({ charts: m.charts })}</script>
<script>${RENDER}</script>
</body>
</html>
`;
}
