/**
 * The replay format in the reader registry: sniffed by its magic, read by the shard
 * workers (replay/input.ts). The magic lives here, below the replay reader, so the
 * registry never imports replay/.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
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

/** True when every path is a replay file (by its magic): such a run needs no parse threads. */
export function allReplayFiles(paths: string[]): boolean {
  if (paths.length === 0) return false;
  const head = Buffer.alloc(8);
  return paths.every((p) => {
    try {
      if (p === '-' || !statSync(p).isFile()) return false;
      const fd = openSync(p, 'r');
      try {
        return readSync(fd, head, 0, 8, 0) === 8 && isReplayHead(head);
      } finally {
        closeSync(fd);
      }
    } catch {
      return false;
    }
  });
}
