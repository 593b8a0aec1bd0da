// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/outbound-groups.wasm; not part
// of tsc's build). The outbound table's finalisation groupings (src/engine/outbound-table.ts
// finalize, src/engine/outbound-wasm.ts): host hashes, the entries of a window, grouping by
// host, by (host, protocol, port) and by (host, protocol, target), and each host's distinct
// protocols, ports and targets. A detect run finalises once, so in JavaScript these loops ran
// mostly before V8 had optimised them (~60 ms of the shard thread on the bucket); here they
// are compiled before they run.
//
// The table's key columns lie in this module's memory: the outbound table's own memory
// (assembly/outbound-adds.ts's, which imports it too), or a fresh one JavaScript copied them
// into. JavaScript lays out every array (past the table's, in room set aside: the memory never
// grows during a finalisation) and reads the results through typed-array views. Everything
// here is outbound-table.ts written again:
// the same hashes, groups in order of first appearance and entries in input order, so the
// findings are the same, in the same order, with the same sums.
//
// Every pass over entries takes a range [from, to) and carries its counts from one call to
// the next (in arguments or globals): outbound-wasm.ts calls it in pieces. WebAssembly has no
// on-stack replacement, so a pass over all entries in one call would run in Liftoff (the
// baseline code) to its end; called in pieces, the pieces after V8's tier-up run TurboFan code.

import { fmix32, mix } from './shared/hash';

const F_SRC6: u32 = 4;
const F_DST6: u32 = 8;
// the groupings (outbound-table.ts BY_*)
const BY_HOST: u32 = 0;
const BY_PORT: u32 = 1;

// the columns, as JavaScript copied them (setColumns): u32 each but flags (u8)
let cSrc: u32 = 0;
let cEp: u32 = 0;
let cPp: u32 = 0;
let cWin: u32 = 0;
let cDst: u32 = 0;
let cFlags: u32 = 0;
let cSports: u32 = 0;

export function setColumns(src: u32, ep: u32, pp: u32, win: u32, dst: u32, flags: u32, sports: u32): void {
  cSrc = src;
  cEp = ep;
  cPp = pp;
  cWin = win;
  cDst = dst;
  cFlags = flags;
  cSports = sports;
}

function u32At(col: u32, e: u32): u32 {
  return load<u32>(col + (e << 2));
}

function flagsOf(e: u32): u32 {
  return <u32>load<u8>(cFlags + e);
}

// the grouping's masks (outbound-table.ts PP_MASK, DST_MASK, FAM_MASK)
function ppMask(by: u32): u32 {
  return by == BY_HOST ? 0 : (by == BY_PORT ? 0xffffffff : 0xffff0000);
}

function dstMask(by: u32): u32 {
  return by == 2 ? 0xffffffff : 0;
}

function famMask(by: u32): u32 {
  return by == 2 ? F_DST6 : 0;
}

/**
 * OutboundTable.hostHash of entries [from, to) of windows <= upto into the u32s at `out`
 * (others 0); those in the windows go into `inWindow` (their entry numbers, ascending) from
 * place m on (how many earlier pieces put there). Returns m after them.
 */
export function hostHashes(from: u32, to: u32, upto: u32, out: u32, inWindow: u32, m: u32): u32 {
  for (let e: u32 = from; e < to; e++) {
    let h: u32 = 0;
    if (u32At(cWin, e) <= upto) {
      h = fmix32(mix(mix(mix(0x85ebca6b, u32At(cSrc, e)), u32At(cEp, e)), u32At(cWin, e) ^ ((flagsOf(e) & F_SRC6) << 28)));
      store<u32>(inWindow + (m << 2), e);
      m++;
    }
    store<u32>(out + (e << 2), h);
  }
  return m;
}

function sameHost(a: u32, b: u32): bool {
  return ((u32At(cSrc, a) ^ u32At(cSrc, b)) | (u32At(cEp, a) ^ u32At(cEp, b)) | (u32At(cWin, a) ^ u32At(cWin, b)) |
    ((flagsOf(a) ^ flagsOf(b)) & F_SRC6)) == 0;
}

function sameKey(a: u32, b: u32, by: u32): bool {
  return sameHost(a, b) && (((u32At(cPp, a) ^ u32At(cPp, b)) & ppMask(by)) | ((u32At(cDst, a) ^ u32At(cDst, b)) & dstMask(by)) |
    ((flagsOf(a) ^ flagsOf(b)) & famMask(by))) == 0;
}

function groupHash(e: u32, hosts: u32, by: u32): u32 {
  const dstPart = (u32At(cDst, e) & dstMask(by)) ^ ((flagsOf(e) & famMask(by)) << 27);
  return fmix32(mix(mix(u32At(hosts, e), u32At(cPp, e) & ppMask(by)), dstPart));
}

/** Groups groupBy has found so far. */
let groupCount: u32 = 0;

/** Entry e's group: the group at its key's slot from `slot` on, or a new one (its first entry into `first`). */
function groupOfEntry(e: u32, slot: u32, mask: u32, by: u32, slots: u32, first: u32): u32 {
  for (;;) {
    const g1 = u32At(slots, slot);
    if (g1 == 0) {
      store<u32>(first + (groupCount << 2), e);
      groupCount++;
      store<u32>(slots + (slot << 2), groupCount);
      return groupCount - 1;
    }
    if (sameKey(u32At(first, g1 - 1), e, by)) return g1 - 1;
    slot = (slot + 1) & mask;
  }
  return 0; // not reached: the slots are at most half full
}

/**
 * OutboundTable.groupBy of the m entries at `entries` by their key in grouping `by`, in four
 * passes: groupBegin; groupEntries over [0, m) in pieces; groupStarts over the groups; with
 * an order, groupOrder over [0, m). groupOf[j]: entry j's group, groups numbered in order of
 * first appearance; start[g] .. start[g + 1]: group g's places in `order` (m + 1 i32s), where
 * its entries lie in input order. `slots` (slotCount i32s, a power of two >= 2m) and `first`
 * (m i32s) are scratch.
 */
export function groupBegin(m: u32, start: u32, slots: u32, slotCount: u32, fillStart: u32): void {
  memory.fill(slots, 0, slotCount << 2);
  // `start` is laid out fresh for each grouping, zeroed (outbound-wasm.ts alloc). In a replay
  // table's memory (fillStart 0) it is not filled here, so that only the places of the groups
  // found are touched (a grouping by host of a shard's 494 k entries has ~5 k groups: its 2 MB
  // fill was ~500 page faults for nothing); other tables fill it, as they did before
  if (fillStart) memory.fill(start, 0, (m + 1) << 2);
  groupCount = 0;
}

/** groupBy's entries [from, to): each one's group into groupOf, counted at start[g + 1]. Returns the groups so far. */
export function groupEntries(entries: u32, from: u32, to: u32, by: u32, hosts: u32, start: u32, groupOf: u32, slots: u32, slotCount: u32, first: u32): u32 {
  const mask = slotCount - 1;
  for (let j: u32 = from; j < to; j++) {
    const e = u32At(entries, j);
    const g = groupOfEntry(e, groupHash(e, hosts, by) & mask, mask, by, slots, first);
    store<u32>(groupOf + (j << 2), g);
    const at = start + ((g + 1) << 2);
    store<u32>(at, load<u32>(at) + 1);
  }
  return groupCount;
}

/** The counts at start[g + 1] of groups [from, to) summed into starts (those before `from` summed already). */
export function groupStarts(start: u32, from: u32, to: u32): void {
  for (let g: u32 = from; g < to; g++) {
    const at = start + ((g + 1) << 2);
    store<u32>(at, load<u32>(at) + load<u32>(at - 4));
  }
}

/** `next`: a copy of the count starts, each group's next place (groupBy passes `first`: its first entries are no longer needed). */
export function groupNext(next: u32, start: u32, count: u32): void {
  memory.copy(next, start, count << 2);
}

/** groupBy's entries [from, to) placed in `order` by their group (groupOf), at each group's next place. */
export function groupOrder(entries: u32, from: u32, to: u32, groupOf: u32, next: u32, order: u32): void {
  for (let j: u32 = from; j < to; j++) {
    const at = next + (u32At(groupOf, j) << 2);
    const place = load<u32>(at);
    store<u32>(at, place + 1);
    store<u32>(order + (place << 2), u32At(entries, j));
  }
}

/**
 * OutboundTable.candidateEntries' filter: of entries [from, to) at `entries` grouped by host
 * (groupOf, start as groupBy left them), those of hosts with at least `need` entries, kept in
 * place in entry order from place k on (how many earlier pieces kept); each one's host number
 * into hostOf (i32s by entry). Returns k after them.
 */
export function keepCandidates(entries: u32, from: u32, to: u32, need: u32, start: u32, groupOf: u32, hostOf: u32, k: u32): u32 {
  for (let j: u32 = from; j < to; j++) {
    const g = u32At(groupOf, j);
    if (u32At(start, g + 1) - u32At(start, g) < need) continue;
    const e = u32At(entries, j);
    store<u32>(hostOf + (e << 2), g);
    store<u32>(entries + (k << 2), e);
    k++;
  }
  return k;
}

// the distinct-count set (outbound-table.ts DistinctCount): slots marked with a round number
let setKeys: u32 = 0;
let setTags: u32 = 0;
let setRounds: u32 = 0;
let round: u32 = 0;

/** The set's arrays: `size` u32 keys, u32 tags and u32 rounds each, zeroed (a fresh memory). */
export function setDistinct(keys: u32, tags: u32, rounds: u32): void {
  setKeys = keys;
  setTags = tags;
  setRounds = rounds;
  round = 0;
}

function nextPow2(x: u32): u32 {
  return x <= 1 ? 1 : <u32>1 << (32 - clz<u32>(x - 1));
}

// what distinct() counts of an entry: its protocol, its (protocol, port), its target
const OF_PROTOCOL: u32 = 0;
const OF_PORT: u32 = 1;

/** Distinct keys (with their tags) of the entries order[from, to): a protocol, a (protocol, port) or a target (with its family). */
function distinct(order: u32, from: u32, to: u32, what: u32): u32 {
  if (to - from <= 1) return to - from;
  const r = ++round; // a finalisation's counts number fewer than 2^32
  const mask = nextPow2((to - from) * 2) - 1;
  let n: u32 = 0;
  for (let j = from; j < to; j++) {
    const e = u32At(order, j);
    const pp = u32At(cPp, e);
    const k = what == OF_PROTOCOL ? pp >> 16 : (what == OF_PORT ? pp : u32At(cDst, e));
    const t = what <= OF_PORT ? 0 : flagsOf(e) & F_DST6;
    let slot = fmix32(k ^ (t * 0x9e3779b1)) & mask;
    for (;;) {
      const s = slot << 2;
      if (load<u32>(setRounds + s) != r) {
        store<u32>(setRounds + s, r);
        store<u32>(setKeys + s, k);
        store<u32>(setTags + s, t);
        n++;
        break;
      }
      if (load<u32>(setKeys + s) == k && load<u32>(setTags + s) == t) break;
      slot = (slot + 1) & mask;
    }
  }
  return n;
}

/**
 * OutboundTable.hostInfoOf: for the m entries at `entries` of hosts numbered by hostOf (of
 * hostCount), each host's distinct protocols, ports and targets (i32s) and its source-port
 * sketches OR-ed (u32s), counted for hosts with at least `need` entries only (the others
 * cannot make a finding: keepBusyHosts; their figures are 0). start[g] .. start[g + 1]: host
 * g's places in `order` (m i32s), where its entries lie. In passes: hostBegin; hostCounts
 * over [0, m); groupStarts over the hosts; groupNext into `protocols` (each host's next
 * place: its figures' slots, written last, serve meanwhile); hostPlaces over [0, m);
 * hostFigures over the hosts.
 */
export function hostBegin(start: u32, hostCount: u32): void {
  memory.fill(start, 0, (hostCount + 1) << 2);
}

/** Entries [from, to) counted at start[host + 1]. */
export function hostCounts(entries: u32, from: u32, to: u32, hostOf: u32, start: u32): void {
  for (let j: u32 = from; j < to; j++) {
    const at = start + ((u32At(hostOf, u32At(entries, j)) + 1) << 2);
    store<u32>(at, load<u32>(at) + 1);
  }
}

/** Entries [from, to) placed in `order` by their host, at each host's next place. */
export function hostPlaces(entries: u32, from: u32, to: u32, hostOf: u32, next: u32, order: u32): void {
  for (let j: u32 = from; j < to; j++) {
    const e = u32At(entries, j);
    const at = next + (u32At(hostOf, e) << 2);
    const place = load<u32>(at);
    store<u32>(at, place + 1);
    store<u32>(order + (place << 2), e);
  }
}

/** The figures of hosts [from, to), their entries placed in `order`. */
export function hostFigures(hostFrom: u32, hostTo: u32, start: u32, order: u32, protocols: u32, ports: u32, targets: u32, sports: u32, need: u32): void {
  for (let g: u32 = hostFrom; g < hostTo; g++) {
    const from = u32At(start, g);
    const to = u32At(start, g + 1);
    if (to - from < need) {
      store<u32>(sports + (g << 2), 0);
      store<u32>(protocols + (g << 2), 0);
      store<u32>(ports + (g << 2), 0);
      store<u32>(targets + (g << 2), 0);
      continue;
    }
    let sp: u32 = 0;
    for (let j = from; j < to; j++) sp |= u32At(cSports, u32At(order, j));
    store<u32>(sports + (g << 2), sp);
    store<u32>(protocols + (g << 2), distinct(order, from, to, OF_PROTOCOL));
    store<u32>(ports + (g << 2), distinct(order, from, to, OF_PORT));
    store<u32>(targets + (g << 2), distinct(order, from, to, 2));
  }
}

// public addresses (src/net/address.ts isPublicV4, src/net/home-net.ts), as setPublic laid them
let pFirst: u32 = 0; // 256 bytes: first octets under which a non-public range lies
let pNet: u32 = 0; // the non-public ranges' networks and masks (u32s)
let pMask: u32 = 0;
let pSpecials: u32 = 0;
let pHome: u32 = 0; // the home networks' IPv4 ranges, [lo, hi] u32 pairs, sorted and disjoint
let pHomeCount: i32 = 0;
let pPublic6: u32 = 0; // a byte an IPv6 intern id: 1 when public (home networks included)

export function setPublic(firstOctet: u32, net: u32, mask: u32, specials: u32, home: u32, homeCount: i32, public6: u32): void {
  pFirst = firstOctet;
  pNet = net;
  pMask = mask;
  pSpecials = specials;
  pHome = home;
  pHomeCount = homeCount;
  pPublic6 = public6;
}

/** HomeNet.isPublic of an IPv4 value: not in a special-purpose range nor in a home network. */
function publicV4(v: u32): bool {
  if (load<u8>(pFirst + (v >> 24)) != 0) {
    for (let i: u32 = 0; i < pSpecials; i++) {
      if ((v & load<u32>(pMask + (i << 2))) == load<u32>(pNet + (i << 2))) return false;
    }
  }
  // the last home range whose low end is <= v
  let a: i32 = 0;
  let b: i32 = pHomeCount - 1;
  let found: i32 = -1;
  while (a <= b) {
    const m = (a + b) >>> 1;
    if (load<u32>(pHome + (<u32>m << 3)) <= v) {
      found = m;
      a = m + 1;
    } else b = m - 1;
  }
  return found < 0 || v > load<u32>(pHome + (<u32>found << 3), 4);
}

/**
 * OutboundTable.splitByTarget: of entries [from, to) at `entries`, those whose target is
 * public into `outbound` from place nOut on (how many earlier pieces put there), the others
 * into `internal` (from place from - nOut), each in entry order. Returns nOut after them.
 */
export function splitByTarget(entries: u32, from: u32, to: u32, outbound: u32, internal: u32, nOut: u32): u32 {
  let nIn: u32 = from - nOut;
  for (let j: u32 = from; j < to; j++) {
    const e = u32At(entries, j);
    const d = u32At(cDst, e);
    const pub = (flagsOf(e) & F_DST6) != 0 ? load<u8>(pPublic6 + d) != 0 : publicV4(d);
    if (pub) {
      store<u32>(outbound + (nOut << 2), e);
      nOut++;
    } else {
      store<u32>(internal + (nIn << 2), e);
      nIn++;
    }
  }
  return nOut;
}

/**
 * The entries [from, to) at `entries` whose host has at least `need` of them, in their order,
 * into `out` from place k on (how many earlier pieces kept; returns k after them); `start` is the host starts hostFigures counted over the same entries. A group of
 * a grouping by port or target is part of one host's entries, so a host with fewer cannot
 * make a group of `need`: leaving it out skips most of the groupings' work (on the bucket no
 * host has the 100 entries an outbound scan needs), and the groups left are the same, in the
 * same order.
 */
export function keepBusyHosts(entries: u32, from: u32, to: u32, hostOf: u32, start: u32, need: u32, out: u32, k: u32): u32 {
  for (let j: u32 = from; j < to; j++) {
    const e = u32At(entries, j);
    const g = u32At(hostOf, e);
    if (u32At(start, g + 1) - u32At(start, g) < need) continue;
    store<u32>(out + (k << 2), e);
    k++;
  }
  return k;
}

/**
 * outbound-table.ts withRepeatedTargets: the entries [from, to) at `entries` whose host
 * (hostOf, i32s by entry) has more entries in the list (`start`: the host starts hostFigures
 * counted over the same list) than distinct targets (`targets`, i32s by host), in their order,
 * into `out` from place k on (how many earlier pieces kept); returns k after them.
 */
export function keepRepeatedTargets(entries: u32, from: u32, to: u32, hostOf: u32, start: u32, targets: u32, out: u32, k: u32): u32 {
  for (let j: u32 = from; j < to; j++) {
    const e = u32At(entries, j);
    const g = u32At(hostOf, e);
    if (u32At(start, g + 1) - u32At(start, g) <= u32At(targets, g)) continue;
    store<u32>(out + (k << 2), e);
    k++;
  }
  return k;
}

/**
 * outbound-table.ts groupsOfAtLeast: of groups [from, to) (`start`: their starts, count + 1
 * i32s), the numbers of those with at least `min` entries, in order, into `out` from place n
 * on (how many earlier pieces kept); returns n after them.
 */
export function largeGroups(start: u32, from: u32, to: u32, min: u32, out: u32, n: u32): u32 {
  for (let g: u32 = from; g < to; g++) {
    if (u32At(start, g + 1) - u32At(start, g) < min) continue;
    store<u32>(out + (n << 2), g);
    n++;
  }
  return n;
}
