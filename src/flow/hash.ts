/**
 * Hashing of addresses and keys. The shard of a record (which worker owns its scan
 * keys) and its partition (which machine, issue 8) both come from the source address,
 * so every key of one source lives in exactly one place.
 */

/** murmur3 finaliser: full avalanche of a 32-bit value. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

// as int32 (the same bits for mix): past 2^31 the seed is a double, and mix, optimised on
// small integers, was thrown away at the first IPv6 address
const ADDRESS_SEED = 0x9747b28c | 0;

/**
 * The hash state after the first three words of every IPv4 address (IPv4-mapped form:
 * 0, 0, 0xffff): one constant, so an IPv4 address costs one mix instead of four.
 */
const V4_MAPPED_STATE = mix(mix(mix(ADDRESS_SEED, 0), 0), 0x0000ffff);

/** Hash of an address in four-word form (stable across runs, machines and versions). */
export function hashAddress(w: ArrayLike<number>, o: number): number {
  const w0 = w[o]!;
  const w1 = w[o + 1]!;
  const w2 = w[o + 2]!;
  const h = w0 === 0 && w1 === 0 && w2 === 0x0000ffff ? V4_MAPPED_STATE : mix(mix(mix(ADDRESS_SEED, w0), w1), w2);
  return fmix32(mix(h, w[o + 3]!) ^ 16);
}

/**
 * Source addresses fall into SHARD_BUCKETS fixed buckets; a run with N workers gives
 * bucket b to shard b % N. Replay files keep their blocks per bucket, so a replayed block
 * can be routed whole to its shard for any worker count without looking at its records.
 */
export const SHARD_BUCKETS = 4096;

export function bucketOf(addrHash: number): number {
  return addrHash & (SHARD_BUCKETS - 1);
}

/** Worker shard of a source-address hash. */
export function shardOf(addrHash: number, shards: number): number {
  return (addrHash & (SHARD_BUCKETS - 1)) % shards;
}

/**
 * Partition (machine) of a source-address hash: a contiguous range of the buckets, so
 * that a replay file's blocks (one bucket each) belong to one partition whole and a
 * partition's run skips the others' blocks by the file's index without reading them.
 * Ranges keep the worker shards inside a partition balanced (bucket % workers runs over
 * consecutive buckets). Partitions number at most SHARD_BUCKETS.
 */
export function partitionOf(addrHash: number, partitions: number): number {
  return partitionOfBucket(addrHash & (SHARD_BUCKETS - 1), partitions);
}

export function partitionOfBucket(bucket: number, partitions: number): number {
  return Math.floor((bucket * partitions) / SHARD_BUCKETS);
}
