/**
 * Every input format, by name. To support a new format, write a reader module (see
 * types.ts) and add it to READERS: its place in the list is its priority when sniffing.
 */
import { awsText } from './aws.js';
import { nfdumpCsv } from './nfdump.js';
import { goflow2 } from './goflow2.js';
import type { FormatName, FormatReader } from './types.js';

const READERS: FormatReader[] = [
  awsText,
  nfdumpCsv, // after AWS: needs commas, which AWS lines never have
  goflow2, // JSON: after the cloud JSON readers, which key on their own fields (formats.md §6 rule 8)
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
