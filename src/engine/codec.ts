/**
 * Serialising accumulator state (checkpoints, partial results between machines):
 * msgpackr with typed arrays kept as typed arrays (moreTypes), compressed with lz4.
 */
import type { Packr } from 'msgpackr';
import { lz4Codec, msgpack } from '../replay/codecs.js';

let packr: Packr | undefined;
const packer = (): Packr => (packr ??= new (msgpack().Packr)({ moreTypes: true }));

export function encodeState(value: unknown): Buffer {
  return lz4Codec().compressSync(packer().pack(value));
}

export function decodeState<T>(bytes: Uint8Array): T {
  return packer().unpack(lz4Codec().uncompressSync(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) as T;
}
