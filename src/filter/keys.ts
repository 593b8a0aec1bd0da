/**
 * The scan keys of a detection run, as a set that a filter can ask about every record
 * without allocating: (source address, protocol, destination port, window) in an
 * open-addressing hash table over typed arrays.
 */
import { readFileSync } from 'node:fs';
import { fmix32, mix } from '../flow/hash.js';
import { parseAddress } from '../net/address.js';

const WORDS = 6; // four address words, protocol << 16 | port, window

export class ScanKeySet {
  private keys = new Uint32Array(WORDS * 1024);
  private slots = new Int32Array(2048).fill(-1);
  size = 0;

  add(src: ArrayLike<number>, o: number, protocol: number, port: number, window: number): void {
    if (this.has(src, o, protocol, port, window)) return;
    if ((this.size + 1) * WORDS > this.keys.length) {
      const next = new Uint32Array(this.keys.length * 2);
      next.set(this.keys);
      this.keys = next;
    }
    const k = this.size * WORDS;
    for (let i = 0; i < 4; i++) this.keys[k + i] = src[o + i]!;
    this.keys[k + 4] = ((protocol << 16) | port) >>> 0;
    this.keys[k + 5] = window;
    this.insert(this.size, this.slots);
    this.size++;
    if (this.size * 2 > this.slots.length) this.rehash();
  }

  /** True when (src, protocol, port, window) is a scan key. Allocates nothing. */
  has(src: ArrayLike<number>, o: number, protocol: number, port: number, window: number): boolean {
    const pp = ((protocol << 16) | port) >>> 0;
    const mask = this.slots.length - 1;
    let slot = hashKey(src[o]!, src[o + 1]!, src[o + 2]!, src[o + 3]!, pp, window) & mask;
    const keys = this.keys;
    for (;;) {
      const id = this.slots[slot]!;
      if (id < 0) return false;
      const k = id * WORDS;
      if (
        keys[k + 4] === pp &&
        keys[k + 5] === window &&
        keys[k + 3] === src[o + 3]! >>> 0 &&
        keys[k] === src[o]! >>> 0 &&
        keys[k + 1] === src[o + 1]! >>> 0 &&
        keys[k + 2] === src[o + 2]! >>> 0
      ) {
        return true;
      }
      slot = (slot + 1) & mask;
    }
  }

  private insert(id: number, slots: Int32Array): void {
    const k = id * WORDS;
    const kk = this.keys;
    const mask = slots.length - 1;
    let slot = hashKey(kk[k]!, kk[k + 1]!, kk[k + 2]!, kk[k + 3]!, kk[k + 4]!, kk[k + 5]!) & mask;
    while (slots[slot]! >= 0) slot = (slot + 1) & mask;
    slots[slot] = id;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    for (let id = 0; id < this.size; id++) this.insert(id, slots);
    this.slots = slots;
  }
}

function hashKey(a: number, b: number, c: number, d: number, pp: number, w: number): number {
  let h = 0x2545f491;
  h = mix(h, a);
  h = mix(h, b);
  h = mix(h, c);
  h = mix(h, d);
  h = mix(h, pp);
  h = mix(h, w);
  return fmix32(h ^ 24);
}

export class ScanFileError extends Error {}

/**
 * The scan keys of a results folder's scans.ndjson. `windowSeconds` comes from the
 * run's summary.json (settings.window_seconds).
 */
export function loadScanKeys(scansNdjson: string, windowSeconds: number): ScanKeySet {
  let text: string;
  try {
    text = readFileSync(scansNdjson, 'utf8');
  } catch (err) {
    throw new ScanFileError(`${scansNdjson}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const set = new ScanKeySet();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const where = `${scansNdjson}:${i + 1}`;
    let rec: { src?: unknown; protocol?: unknown; dst_port?: unknown; window_start?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      throw new ScanFileError(`${where}: not a JSON object`);
    }
    const src = typeof rec.src === 'string' ? parseAddress(rec.src) : null;
    const protocol = Number(rec.protocol);
    const port = Number(rec.dst_port);
    const start = typeof rec.window_start === 'string' ? Date.parse(rec.window_start) / 1000 : NaN;
    if (!src || !(protocol >= 0 && protocol <= 255) || !(port >= 0 && port <= 65535) || !Number.isInteger(start)) {
      throw new ScanFileError(`${where}: not a scan verdict (needs src, protocol, dst_port, window_start)`);
    }
    if (start % windowSeconds !== 0) {
      throw new ScanFileError(`${where}: window_start ${rec.window_start} is not on a ${windowSeconds}-second window boundary (wrong --window?)`);
    }
    set.add(src, 0, protocol, port, start / windowSeconds);
  }
  return set;
}
