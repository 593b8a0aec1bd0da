/** What `flowsieve generate` is asked: a leaf module, read by the generator and its ground truth. */
import type { CloudName } from './plan.js';

export interface GenerateOptions {
  out: string;
  seed: number;
  scale: number;
  days: number;
  /** First day, Unix seconds at midnight UTC. */
  start: number;
  clouds: CloudName[];
  windowSeconds: number;
  gzipLevel: number;
  /** Also write every AWS stream as a Zeek sensor's conn.log (writers/zeek.ts). */
  zeek?: boolean;
  onProgress?: (p: GenerateProgress) => void;
}

export interface GenerateProgress {
  hoursDone: number;
  hoursTotal: number;
  records: number;
  elapsed: number;
}
