/**
 * The check the in-thread planning tests share: a run whose files the parse threads planned
 * (from their names, sniffed where they are read) reports, rejects, counts and finds what the
 * same bytes planned on the main thread give.
 */
import { expect } from 'vitest';
import type { detect } from '../../dist/src/engine/run.js';

type Run = Awaited<ReturnType<typeof detect>>;
/** A file report with its path made equal across the two trees. */
export type Comparable = <R extends { path: string }>(r: R) => R;

/** Every file's report, every reject (with its file and line) and the totals the same. */
export function expectReportsAlike(viaThread: Run, viaMain: Run, comparable: Comparable): void {
  expect(viaThread.files.map(comparable)).toEqual(viaMain.files.map(comparable));
  expect(viaThread.totals).toEqual(viaMain.totals);
  const rejects = (r: Run) => r.rejects.map((j) => ({ ...j, file: comparable({ path: j.file }).path }));
  expect(rejects(viaThread)).toEqual(rejects(viaMain));
}

/** The same verdicts, and some. */
export function expectVerdictsAlike(viaThread: Run, viaMain: Run): void {
  expect(viaThread.scans.length).toBeGreaterThan(0);
  expect(viaThread.scans).toEqual(viaMain.scans);
}
