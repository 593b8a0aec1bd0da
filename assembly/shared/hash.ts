/**
 * src/flow/hash.ts's mix and fmix32 (MurmurHash3's round and finaliser) for the WebAssembly
 * modules: the shard hash of a source (shared/route.ts) and the scan table's key hash
 * (scan-held.ts) must be the JavaScript ones bit for bit.
 */
export function mix(h: u32, k: u32): u32 {
  k *= 0xcc9e2d51;
  k = rotl<u32>(k, 15);
  k *= 0x1b873593;
  h ^= k;
  h = rotl<u32>(h, 13);
  return h * 5 + 0xe6546b64;
}

export function fmix32(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}
