/** DetectOptions for engine tests: defaults of the CLI, one worker, small limits where asked. */
import { DEFAULT_RUN } from '../../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../../dist/src/detect/rules.js';

export function detectOpts(inputs: string[], over: Record<string, unknown> = {}): any {
  return {
    inputs,
    workers: 1,
    windowSeconds: 6 * 3600,
    thresholds: { ...DEFAULT_THRESHOLDS },
    nearMisses: false,
    ...DEFAULT_RUN,
    ...over,
  };
}
