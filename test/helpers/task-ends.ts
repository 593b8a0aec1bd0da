/** The 'files' tasks' text bytes for files of `weights`, ended where planJobs ends them (src/engine/run.ts TaskEnds; its file count bound aside). */
export function taskBytes(weights: readonly number[], ends: { add(weight: number): boolean; end(): void }): number[] {
  const out: number[] = [];
  let task = 0;
  for (const w of weights) {
    task += w;
    if (ends.add(w)) {
      ends.end();
      out.push(task);
      task = 0;
    }
  }
  if (task > 0) out.push(task);
  return out;
}
