/** The command table of the command line (src/cli/main.ts). */
import type { CommandSpec, Parsed } from '../app/args.js';

export interface Command {
  spec: CommandSpec;
  /** `context.config`: the --config file the values were read with (flowsieve config --print names it). */
  run(args: Parsed, context?: { config?: string }): Promise<number>;
  /** A command group (cluster): `flowsieve cluster submit ...`; the subcommands' names include the group's. */
  subcommands?: Command[];
}

/**
 * The commands, loaded on use: a command's module pulls in what only it needs (the
 * cluster's Redis and S3 clients take half a second to load), so `detect` does not wait
 * for them. The summaries are the specs' own (a test checks they agree).
 */
export const COMMAND_INDEX: ReadonlyArray<{ name: string; summary: string; load: () => Promise<Command> }> = [
  { name: 'detect', summary: 'find internet scanners in flow-log files', load: () => import('./commands/detect.js') },
  { name: 'convert', summary: 'turn flow-log files into replay files (binary, columnar, lz4) that detect reads fast', load: () => import('./commands/convert.js') },
  { name: 'serve', summary: 'run beside a log pipeline: process files as they land, serve verdicts over HTTP', load: () => import('./commands/serve.js') },
  { name: 'generate', summary: 'write synthetic flow logs with planted scanners and a ground truth', load: () => import('./commands/generate.js') },
  { name: 'filter', summary: 'write the input logs back with the scan traffic removed', load: () => import('./commands/filter.js') },
  { name: 'history', summary: 'days observed per scanner IP across the runs recorded with --state', load: () => import('./commands/history.js') },
  { name: 'export', summary: 'write scanner lists (persistent, one day, one actor) as text, CSV and JSON', load: () => import('./commands/export.js') },
  { name: 'report', summary: 'write a report (one self-contained HTML file with charts, or Markdown)', load: () => import('./commands/report.js') },
  { name: 'merge', summary: "combine partitions' partial results (detect --partition p/P --partials DIR) into one run's outputs", load: () => import('./commands/merge.js') },
  { name: 'config', summary: 'show the effective settings of detect and serve (flags, FLOWSIEVE_* variables, --config file, defaults)', load: () => import('./commands/config.js') },
  { name: 'cluster', summary: 'run detection over many machines: submit, worker, status', load: () => import('./commands/cluster.js') },
];
