/** The order of verdict output (detection.md §7): window, source (IPv4 before IPv6, numerically), protocol, port. */
import { compareAddress } from '../net/address.js';

export interface Ordered {
  window: number;
  srcWords: number[];
  protocol: number;
  dstPort: number;
}

export function compareVerdicts(a: Ordered, b: Ordered): number {
  return (
    a.window - b.window ||
    compareAddress(a.srcWords, 0, b.srcWords, 0) ||
    a.protocol - b.protocol ||
    a.dstPort - b.dstPort
  );
}
