/** The report as Markdown text: the same figures as the HTML report, charts as tables. */
import type { ChartSpec, ReportModel, TableSpec } from './model.js';

function cell(x: unknown): string {
  if (x === null || x === undefined) return '';
  const s = typeof x === 'number' ? x.toLocaleString('en-US') : String(x);
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(columns: string[], rows: unknown[][], numeric: (i: number) => boolean): string[] {
  return [
    `| ${columns.map(cell).join(' | ')} |`,
    `|${columns.map((_, i) => (numeric(i) ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function chartMd(c: ChartSpec): string[] {
  const out = [`## ${c.title}`, '', `_source: ${c.source}_`, ''];
  if (c.caption) out.push(c.caption, '');
  if (c.noData) return [...out, `> No data: ${c.noData}`, ''];
  const rows = c.labels.map((l, i) => [l, ...c.datasets.map((d) => d.data[i] ?? null)]);
  return [...out, ...mdTable(['', ...c.datasets.map((d) => d.label)], rows, (i) => i > 0), ''];
}

function tableMd(t: TableSpec): string[] {
  const out = [`## ${t.title}${t.noData ? '' : ` (${t.rows.length})`}`, '', `_source: ${t.source}_`, ''];
  if (t.caption) out.push(t.caption, '');
  if (t.noData) return [...out, `> No data: ${t.noData}`, ''];
  const numeric = (i: number) => t.rows.some((r) => typeof r[i] === 'number');
  return [...out, ...mdTable(t.columns, t.rows, numeric), ''];
}

export function renderMarkdown(m: ReportModel): string {
  return [
    `# ${m.title}`,
    '',
    `generated ${m.generatedAt}`,
    '',
    ...m.sources.map((s) => `- ${s}`),
    '',
    ...(m.notes.length ? [...m.notes.map((n) => `> note: ${n}`), ''] : []),
    ...mdTable(['figure', 'value'], m.headline.map((h) => [h.label, h.value]), (i) => i === 1),
    '',
    ...m.charts.flatMap(chartMd),
    ...m.tables.flatMap(tableMd),
  ].join('\n');
}
