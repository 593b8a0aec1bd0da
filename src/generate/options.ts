/** What `flowsieve generate` is asked: a leaf module, read by the generator and its ground truth. */
import type { CloudName } from './plan.js';

export interface GenerateOptions {
  /** The logs folder: aws/, azure/, gcp/ and nothing else, so `detect OUT` reads only logs. */
  out: string;
  /** The metadata folder beside it (ground-truth.json, region-map.json, allow.txt); default metaDirFor(out). */
  meta?: string;
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
