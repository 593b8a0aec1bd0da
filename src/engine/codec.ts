/**
 * Serialising accumulator state (checkpoints, partial results between machines):
 * msgpackr with typed arrays kept as typed arrays (moreTypes), compressed with lz4.
 */
import { Packr } from 'msgpackr';
import { compressSync, uncompressSync } from 'lz4-napi';

const packr = new Packr({ moreTypes: true });

export function encodeState(value: unknown): Buffer {
  return compressSync(packr.pack(value));
}

export function decodeState<T>(bytes: Uint8Array): T {
  return packr.unpack(uncompressSync(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) as T;
}
