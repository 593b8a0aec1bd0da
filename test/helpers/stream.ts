/**
 * A small synthetic flow-log stream for the sidecar tests: hours of AWS records cut into
 * files of 20 minutes each (in time order, as a shipper delivers them), with scanners
 * that come and go, one that persists across windows (per-day distinct counts), noise,
 * and an own host that scans out and is scanned on the same port later the same day
 * (the worm signature, which serve must upgrade when the later window closes).
 */
import { V2_HEADER, v2Line, shuffled, type Flow } from './aws.js';

export const T0 = 1700006400; // 2023-11-15T00:00:00Z
export const FILE_SECONDS = 1200;

export interface StreamFile {
  name: string;
  text: string;
  records: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Flows of `hours` hours from T0 (window 1h in the tests). */
export function streamFlows(hours: number, seed = 7): Flow[] {
  const r = rng(seed);
  const flows: Flow[] = [];
  const at = (h: number) => T0 + h * 3600 + Math.floor(r() * 3500);
  const acct = (k: number) => (k % 2 ? '111111111111' : '222222222222');
  for (let h = 0; h < hours; h++) {
    for (let k = 0; k < 3; k++) {
      const n = 10 + ((h + k) % 4);
      for (let e = 0; e < n; e++) {
        flows.push({ src: `45.${h}.1.${k}`, dst: `10.0.${k}.${e + 1}`, account: acct(e), dport: [22, 23, 445][k]!, start: at(h), packets: 1, bytes: 44 });
      }
    }
    // persistent scanner: the same endpoints every hour (one scanner per endpoint-day, not 24)
    for (let e = 0; e < 12; e++) flows.push({ src: '80.82.77.33', dst: `10.0.9.${e + 1}`, account: acct(e), dport: 23, start: at(h), packets: 2, bytes: 80 });
    // noise: sources touching a few endpoints
    for (let k = 0; k < 5; k++) {
      const m = 1 + Math.floor(r() * 3);
      for (let e = 0; e < m; e++) flows.push({ src: `185.${h}.${k}.9`, dst: `10.0.${k}.${e + 1}`, dport: 3389, start: at(h), packets: 1 + k, bytes: 60 });
    }
  }
  // own host 10.0.0.5 scans 120 public targets on 445 in hour 3...
  for (let t = 0; t < 120; t++) flows.push({ src: '10.0.0.5', dst: `93.184.${t >> 6}.${(t & 63) + 1}`, dport: 445, start: T0 + 3 * 3600 + 100 + t, packets: 1, bytes: 44, action: 'ACCEPT', account: '222222222222' });
  // ...and is scanned on 445 (with 10 other endpoints) in hour 10 of the same day
  for (let e = 0; e < 11; e++) flows.push({ src: '71.6.135.131', dst: e === 0 ? '10.0.0.5' : `10.0.4.${e}`, account: '222222222222', dport: 445, start: T0 + 10 * 3600 + 200 + e, packets: 1, bytes: 44 });
  return flows;
}

/** Cut flows into 20-minute files (by start time), each shuffled inside. */
export function streamFiles(flows: Flow[], prefix = 'f'): StreamFile[] {
  const byFile = new Map<number, Flow[]>();
  for (const f of flows) {
    const k = Math.floor((f.start - T0) / FILE_SECONDS);
    let list = byFile.get(k);
    if (!list) byFile.set(k, (list = []));
    list.push(f);
  }
  return [...byFile.keys()]
    .sort((a, b) => a - b)
    .map((k) => {
      const list = shuffled(byFile.get(k)!, k + 1);
      return { name: `${prefix}${String(k).padStart(4, '0')}.log`, text: [V2_HEADER, ...list.map(v2Line)].join('\n') + '\n', records: list.length };
    });
}

/** One private-to-private record at `t`: advances the watermark, creates no scan key. */
export function clockFile(t: number, name = 'zz-clock.log'): StreamFile {
  const f: Flow = { src: '10.200.0.1', dst: '10.200.0.2', dport: 5000, start: t, action: 'ACCEPT' };
  return { name, text: [V2_HEADER, v2Line(f)].join('\n') + '\n', records: 1 };
}
