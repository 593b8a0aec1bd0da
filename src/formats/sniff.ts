/**
 * Format sniffing from a file's first bytes (formats.md §6), after gunzip when the file
 * is gzip. Content decides, never the file name alone; each reader says whether it
 * recognises the content, in the registry's order.
 */
import { isAwsHeader } from './aws.js';
import { allReaders } from './registry.js';
import type { FormatName } from './types.js';

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** The format of a file from its first (decompressed) bytes, or null when unknown. */
export function sniffFormat(head: Uint8Array, _path: string): FormatName | null {
  const text = Buffer.from(head.subarray(0, 65536)).toString('utf8');
  const firstLine = (text.split('\n').find((l) => l.trim().length > 0) ?? '').trim();
  if (firstLine.length === 0) return null;
  for (const r of allReaders()) if (r.sniff(text, firstLine, head)) return r.name;
  return null;
}

/** The header line of an AWS text file (its field names), when it has one. */
export function awsHeaderOf(head: Uint8Array): string[] | undefined {
  const text = Buffer.from(head.subarray(0, 65536)).toString('utf8');
  const firstLine = (text.split('\n')[0] ?? '').trim();
  const tokens = firstLine.split(/\s+/);
  return isAwsHeader(tokens) ? tokens : undefined;
}
