/**
 * Every input format, by name. To support a new format, write a reader module (see
 * types.ts) and add it to READERS: its place in the list is its priority when sniffing.
 */
import { awsText } from './aws.js';
import { replayReader } from '../replay/reader.js';
import type { FormatName, FormatReader } from './types.js';

const READERS: FormatReader[] = [
  replayReader, // binary magic: the most specific, so first
  awsText,
];

export function readerFor(name: FormatName): FormatReader | undefined {
  return READERS.find((r) => r.name === name);
}

export function supportedFormats(): FormatName[] {
  return READERS.map((r) => r.name);
}

/** Readers in sniffing order. */
export function allReaders(): readonly FormatReader[] {
  return READERS;
}
