/**
 * The shard hash lives in flow/hash.ts (the sink routes records with it, below the
 * engine). scan-table.ts still names it here until its split (issue 18 item 3) lands.
 */
export * from '../flow/hash.js';
