/** The replay format in the reader registry: sniffed by its magic, read by the shard workers (input.ts). */
import type { BlockFileReader } from '../formats/types.js';
import { isReplayHead } from './file.js';

export const replayReader: BlockFileReader = {
  kind: 'blocks',
  name: 'replay',
  sniff: (_text, _firstLine, head) => isReplayHead(head),
};
