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

/** A file's head as UTF-8 text (its first 64 KiB), decoded once for all the sniffers (a view, no copy). */
export function headText(head: Uint8Array): string {
  return Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, 65536)).toString('utf8');
}

/** The first line of `text` that is not blank, trimmed ('' when none): no split of the whole head. */
export function firstNonBlankLine(text: string): string {
  for (let s = 0; s < text.length; ) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = text.length;
    const line = text.slice(s, e).trim();
    if (line.length > 0) return line;
    s = e + 1;
  }
  return '';
}

/** The format of a file from its first (decompressed) bytes, or null when unknown. */
export function sniffFormat(head: Uint8Array, _path: string, text = headText(head)): FormatName | null {
  const firstLine = firstNonBlankLine(text);
  if (firstLine.length === 0) return null;
  for (const r of allReaders()) if (r.sniff(text, firstLine, head)) return r.name;
  return null;
}

/** The header line of an AWS text file (its field names), when it has one. */
export function awsHeaderOf(head: Uint8Array, text = headText(head)): string[] | undefined {
  const nl = text.indexOf('\n');
  const firstLine = (nl < 0 ? text : text.slice(0, nl)).trim();
  const tokens = firstLine.split(/\s+/);
  return isAwsHeader(tokens) ? tokens : undefined;
}
