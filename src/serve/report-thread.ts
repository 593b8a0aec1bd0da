/**
 * The thread that renders the sidecar's /v1/report page (src/serve/http.ts starts one per
 * report, at most one at a time), so that a report over a long period never holds the
 * event loop that answers /healthz and drives ingestion. It opens the state folder's
 * history store itself (SQLite in WAL mode: reads beside the sidecar's writes).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HistoryStore } from '../store/history.js';
import { buildReport } from '../report/model.js';
import { renderHtml } from '../report/html.js';
import type { ReportTask } from './report.js';

function render(task: ReportTask): string {
  const store = HistoryStore.open(task.stateDir);
  try {
    const period = store.period(task.from, task.to);
    // the alerts: the state folder's outbound.ndjson
    return renderHtml(buildReport({ state: { store, period, name: task.name }, alertsDir: task.stateDir, title: task.title }));
  } finally {
    store.close();
  }
}

if (parentPort && workerData?.reportTask) {
  try {
    parentPort.postMessage({ html: render(workerData.reportTask as ReportTask) });
  } catch (err) {
    parentPort.postMessage({ error: (err as Error).message });
  }
}
