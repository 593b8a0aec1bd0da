// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/endpoint-days.wasm; not part of
// tsc's build). The endpoint-days of one inbound finalisation (src/engine/scan-finalise.ts
// EndpointDays, driven by src/engine/endpoint-days-wasm.ts): each scan's endpoints numbered
// as endpoint-days (day, cloud and account, dst, dst family) in the order first seen, one
// (endpoint-day, source, port) triple per (scan, endpoint), the triples grouped by endpoint-day,
// and each endpoint-day's distinct sources counted and distinct ports listed, sorted.
//
// Why here: a `detect` run finalises once, so EndpointDays' per-triple JavaScript loops ran
// mostly before V8 had optimised them (~200 k triples on the 7 M-record bucket), and V8
// compiled each of them in both threads that finalise (the tail split). This module is
// compiled before it runs.
//
// JavaScript stages each scan's endpoint rows (four u32: first entry, cloud+account, dst,
// family, as the table module wrote them) and the scan (day, source, IPv6 flag, port, rows)
// and copies them here at the end, into a memory sized for every array below: nothing grows.
// Every pass takes a range and carries its state in globals: JavaScript calls them in pieces
// (src/engine/wasm-pieces.ts), so that the pieces after V8's tier-up run TurboFan code.
// Everything is EndpointDays written again: the same ids in the same order, the same sorted
// sources and ports, the same counts.

import { fmix32, mix } from './shared/hash';
import { sortItems } from './shared/sort';

const ROW_BYTES: u32 = 16; // an endpoint row: first entry, cloud+account, dst, family
const SCAN_BYTES: u32 = 20; // a scan: day, source word, IPv6 (0 or 1), port (protocol << 16 | port), rows
const KEY_BYTES: u32 = 16; // an endpoint-day: day, cloud+account, dst, family
/** sortRange's bound: shorter ranges by insertion (most endpoint-days have a few scanners) */
const SHORT: u32 = 24;

// the layout (setLayout): T rows (triples), S scans, up to T endpoint-days
let rowsAt: u32 = 0;
let scansAt: u32 = 0;
let slotsAt: u32 = 0; // slotCount × two u32: the key's hash, endpoint-day id + 1 (0: empty)
let slotMask: u32 = 0;
let keysAt: u32 = 0;
let entryAt: u32 = 0; // per endpoint-day: one entry of it (its address text)
let tDayAt: u32 = 0; // per triple: its endpoint-day
let startAt: u32 = 0; // per endpoint-day + 1: where its triples start (i32)
let fillAt: u32 = 0; // per endpoint-day: its next place, then the end of its distinct ports
let srcsAt: u32 = 0; // per triple, grouped by endpoint-day: source word + 2^32 when IPv6 (u64)
let portsAt: u32 = 0; // per triple, grouped: the port, then each day's distinct ports first
let scannersAt: u32 = 0; // per endpoint-day: distinct sources
let tmpAt: u32 = 0; // the sorts' scratch: 8 bytes a triple
/** endpoint-days numbered, triples written */
let days: u32 = 0;
let triples: u32 = 0;

/** Bytes setLayout lays out from `at` for `rows` rows (triples) and `scans` scans. */
export function layoutBytes(rows: u32, scans: u32): u32 {
  return rows * ROW_BYTES + scans * SCAN_BYTES + slotCountOf(rows) * 8 + rows * (KEY_BYTES + 4 + 4 + 4 + 4 + 8 + 4 + 4 + 8) + 4 + 64;
}

/** At most half the slots full: endpoint-days are at most the rows. */
function slotCountOf(rows: u32): u32 {
  let c: u32 = 16;
  while (c < rows * 2) c <<= 1;
  return c;
}

function align8(x: u32): u32 {
  return (x + 7) & ~7;
}

/** Lays the arrays out from `at` (zeroed memory); the rows and the scans are JavaScript's to copy (addresses). */
export function setLayout(at: u32, rows: u32, scans: u32): void {
  rowsAt = at;
  scansAt = rowsAt + rows * ROW_BYTES;
  slotsAt = align8(scansAt + scans * SCAN_BYTES);
  const slots = slotCountOf(rows);
  slotMask = slots - 1;
  keysAt = slotsAt + slots * 8;
  entryAt = keysAt + rows * KEY_BYTES;
  tDayAt = entryAt + rows * 4;
  startAt = tDayAt + rows * 4;
  fillAt = startAt + rows * 4 + 4;
  srcsAt = align8(fillAt + rows * 4);
  portsAt = srcsAt + rows * 8;
  scannersAt = portsAt + rows * 4;
  tmpAt = align8(scannersAt + rows * 4);
  days = 0;
  triples = 0;
}

/**
 * Scans from .. to (in order; their rows follow one another from row `row`): each endpoint
 * numbered (idOf) and its triple's endpoint-day written. Returns the row after the last.
 */
export function addScans(from: u32, to: u32, row: u32): u32 {
  for (let s = from; s < to; s++) {
    const at = scansAt + s * SCAN_BYTES;
    const day = load<u32>(at);
    const count = load<u32>(at, 16);
    for (let j: u32 = 0; j < count; j++) {
      const r = rowsAt + (row + j) * ROW_BYTES;
      store<u32>(tDayAt + (triples << 2), idOf(day, load<u32>(r, 4), load<u32>(r, 8), load<u32>(r, 12), load<u32>(r)));
      triples++;
    }
    row += count;
  }
  return row;
}

/** The endpoint-day's id, a new one when first seen (EndpointDays.idOf: the same hash, ids in first-seen order). */
function idOf(day: u32, ep: u32, dst: u32, fam: u32, e: u32): u32 {
  const h = fmix32(mix(mix(mix(mix(0x1b873593, day), ep), dst), fam));
  let slot = h & slotMask;
  for (;;) {
    const at = slotsAt + (slot << 3);
    const v = load<u32>(at, 4);
    if (v == 0) break;
    if (load<u32>(at) == h) {
      const k = keysAt + (v - 1) * KEY_BYTES;
      if (((load<u32>(k) ^ day) | (load<u32>(k, 4) ^ ep) | (load<u32>(k, 8) ^ dst) | (load<u32>(k, 12) ^ fam)) == 0) return v - 1;
    }
    slot = (slot + 1) & slotMask;
  }
  const id = days++;
  const k = keysAt + id * KEY_BYTES;
  store<u32>(k, day);
  store<u32>(k, ep, 4);
  store<u32>(k, dst, 8);
  store<u32>(k, fam, 12);
  store<u32>(entryAt + (id << 2), e);
  const at = slotsAt + (slot << 3);
  store<u32>(at, h);
  store<u32>(at, id + 1, 4);
  return id;
}

export function dayCount(): u32 {
  return days;
}

/** Each endpoint-day's triples counted into start[id + 1] (triples from .. to). */
export function countDays(from: u32, to: u32): void {
  for (let k = from; k < to; k++) {
    const at = startAt + ((load<u32>(tDayAt + (k << 2)) + 1) << 2);
    store<u32>(at, load<u32>(at) + 1);
  }
}

/** The counts summed into starts, and each endpoint-day's next place (fill). */
export function dayStarts(): void {
  for (let i: u32 = 0; i < days; i++) {
    const at = startAt + ((i + 1) << 2);
    store<u32>(at, load<u32>(at) + load<u32>(at - 4));
  }
  memory.copy(fillAt, startAt, days << 2);
}

/**
 * Scans from .. to (their triples from `triple` on, in order) into their endpoint-days'
 * places: source and port (a stable counting sort). Returns the triple after the last.
 */
export function placeScans(from: u32, to: u32, triple: u32): u32 {
  for (let s = from; s < to; s++) {
    const at = scansAt + s * SCAN_BYTES;
    const src = <u64>load<u32>(at, 4) | (<u64>load<u32>(at, 8) << 32);
    const port = load<u32>(at, 12);
    const count = load<u32>(at, 16);
    for (let j: u32 = 0; j < count; j++) {
      const f = fillAt + (load<u32>(tDayAt + ((triple + j) << 2)) << 2);
      const place = load<u32>(f);
      store<u32>(f, place + 1);
      store<u64>(srcsAt + (place << 3), src);
      store<u32>(portsAt + (place << 2), port);
    }
    triple += count;
  }
  return triple;
}

/**
 * Endpoint-days from .. to: sources and ports sorted, the distinct sources counted into
 * scanners, the distinct ports moved to the front of the range (its end into fill).
 */
export function distinctDays(from: u32, to: u32): void {
  for (let i = from; i < to; i++) {
    const a = load<u32>(startAt + (i << 2));
    const b = load<u32>(startAt + ((i + 1) << 2));
    sortRange<u64>(srcsAt, a, b);
    sortRange<u32>(portsAt, a, b);
    let c: u32 = 0;
    for (let j = a; j < b; j++) if (j == a || load<u64>(srcsAt + (j << 3)) != load<u64>(srcsAt + ((j - 1) << 3))) c++;
    store<u32>(scannersAt + (i << 2), c);
    let w = a;
    for (let j = a; j < b; j++) {
      const p = load<u32>(portsAt + (j << 2));
      if (j == a || p != load<u32>(portsAt + ((j - 1) << 2))) store<u32>(portsAt + (w++ << 2), p);
    }
    store<u32>(fillAt + (i << 2), w);
  }
}

/** Items a .. b of the array at `base` sorted ascending: insertion for short ranges, else the merge sort. */
function sortRange<T>(base: u32, a: u32, b: u32): void {
  const size: u32 = sizeof<T>();
  if (b - a > SHORT) {
    sortItems<T>(base + a * size, b - a, tmpAt);
    return;
  }
  for (let i = a + 1; i < b; i++) {
    const x = load<T>(base + i * size);
    let j = i;
    for (; j > a; j--) {
      const p = load<T>(base + (j - 1) * size);
      if (!(x < p)) break;
      store<T>(base + j * size, p);
    }
    store<T>(base + j * size, x);
  }
}

/**
 * Where the arrays lie, nine u32 at `out` (src/engine/endpoint-days-wasm.ts reads them): the rows,
 * the scans, the endpoint-days' keys and entries, the starts, the ports' ends, the sources,
 * the ports and the scanners.
 */
export function addresses(out: u32): void {
  store<u32>(out, rowsAt);
  store<u32>(out, scansAt, 4);
  store<u32>(out, keysAt, 8);
  store<u32>(out, entryAt, 12);
  store<u32>(out, startAt, 16);
  store<u32>(out, fillAt, 20);
  store<u32>(out, srcsAt, 24);
  store<u32>(out, portsAt, 28);
  store<u32>(out, scannersAt, 32);
}
