/** Running detection in tests with the CLI's defaults. */
import { detect, DEFAULT_RUN } from '../../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../../dist/src/engine/outbound-table.js';

export async function runDetect(inputs: string[], over: Record<string, unknown> = {}) {
  return detect({
    inputs,
    workers: 2,
    windowSeconds: 21600,
    thresholds: { ...DEFAULT_THRESHOLDS, ...((over.thresholds as object) ?? {}) },
    nearMisses: true,
    outbound: { ...DEFAULT_OUTBOUND },
    ...DEFAULT_RUN,
    ...over,
    ...(over.thresholds ? { thresholds: { ...DEFAULT_THRESHOLDS, ...(over.thresholds as object) } } : {}),
  } as never);
}
