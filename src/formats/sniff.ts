/**
 * Format sniffing from a file's first bytes (formats.md §6), after gunzip when the file
 * is gzip. Content decides, never the file name alone; each reader says whether it
 * recognises the content, in the registry's order.
 */
import { isAwsHeader } from './aws.js';
import { allReaders } from './registry.js';
import type { FormatName, SniffHead } from './types.js';

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

/**
 * A head for the sniffers (types.ts SniffHead): its text and first line decoded when first
 * asked for, or given (`text`, `firstLine`) by a caller that has them.
 */
export class Head implements SniffHead {
  private decoded: string | undefined;
  private line: string | undefined;
  private first = -2;

  constructor(
    readonly bytes: Uint8Array,
    text?: string,
    firstLine?: string,
    readonly words?: number,
  ) {
    this.decoded = text;
    this.line = firstLine;
  }

  get text(): string {
    return (this.decoded ??= headText(this.bytes));
  }

  get firstLine(): string {
    return (this.line ??= firstNonBlankLine(this.text));
  }

  get lead(): number {
    if (this.first === -2) this.first = this.line !== undefined || this.decoded !== undefined ? this.leadOfLine() : leadOfBytes(this.bytes) ?? this.leadOfLine();
    return this.first;
  }

  private leadOfLine(): number {
    return this.firstLine.length > 0 ? this.firstLine.charCodeAt(0) : -1;
  }
}

/**
 * The first character of the first non-blank line, trimmed, from the bytes alone: past ASCII
 * white space (which trim() drops and which ends no line but a blank one) the first ASCII
 * byte is that character (-1: the 64 KiB are white space). Undefined at a byte of 0x80 or
 * more: trim() drops some non-ASCII white space too (U+00A0, U+FEFF...), so the text decides.
 */
function leadOfBytes(bytes: Uint8Array): number | undefined {
  const n = Math.min(bytes.length, 65536);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 32 || (b >= 9 && b <= 13)) continue;
    return b < 0x80 ? b : undefined;
  }
  return -1;
}

/** The format of a file from its first (decompressed) bytes, or null when unknown. */
export function sniffFormat(head: Uint8Array, _path: string, text?: string): FormatName | null {
  return sniffHead(new Head(head, text));
}

/** The format a head's content is in, or null when no reader recognises it. */
export function sniffHead(head: SniffHead): FormatName | null {
  if (head.lead < 0) return null; // no line that is not blank
  for (const r of allReaders()) if (r.sniff(head)) return r.name;
  return null;
}

/** The header line of an AWS text file (its field names), when it has one. */
export function awsHeaderOf(head: Uint8Array, text = headText(head)): string[] | undefined {
  const nl = text.indexOf('\n');
  const firstLine = (nl < 0 ? text : text.slice(0, nl)).trim();
  const tokens = firstLine.split(/\s+/);
  return isAwsHeader(tokens) ? tokens : undefined;
}
