/**
 * The replay format in the reader registry: sniffed by its magic, read by the shard
 * workers (replay/input.ts). The magic lives here, below the replay reader, so the
 * registry never imports replay/.
 */
import type { BlockFileReader } from './types.js';

export const FILE_MAGIC = 'FSREPLAY';

/** True when the first bytes are a replay file's magic (format sniffing). */
export function isReplayHead(head: Uint8Array): boolean {
  if (head.length < FILE_MAGIC.length) return false;
  for (let i = 0; i < FILE_MAGIC.length; i++) if (head[i] !== FILE_MAGIC.charCodeAt(i)) return false;
  return true;
}

export const replayReader: BlockFileReader = {
  kind: 'blocks',
  name: 'replay',
  sniff: (head) => isReplayHead(head.bytes),
};
