/**
 * One interface for every input format. A reader turns bytes into FlowRecords pushed
 * into a FlowSink. Line formats get blocks of whole lines (so files can be split into
 * byte ranges and read by several workers at once); document formats get a whole file.
 */
import type { FlowSink } from '../flow/sink.js';

export type FormatName =
  | 'aws-text' // AWS VPC Flow Logs text (header line, or default v2 without one)
  | 'aws-json' // AWS records wrapped as {"message": "..."} (Firehose) or CloudWatch envelopes, one JSON object per line
  | 'aws-cloudwatch' // the same as a document: pretty-printed or concatenated CloudWatch Logs envelopes
  | 'azure-nsg'
  | 'azure-vnet'
  | 'gcp' // one LogEntry per line
  | 'gcp-json' // a JSON array of LogEntries (or pretty-printed ones)
  | 'nfdump-csv'
  | 'goflow2'
  | 'parquet' // AWS VPC Flow Logs in Parquet, or Security Lake OCSF network activity in Parquet
  | 'zeek' // Zeek conn.log, TSV or JSON
  | 'replay';

/** Everything a reader knows about the file besides its bytes. */
export interface ReaderContext {
  sink: FlowSink;
  /** Path as the user named it (for messages). */
  file: string;
  /** Defaults for fields the format or the record lacks (from the path layout or options). */
  account: string;
  region: string;
  /** AWS: field names for files without a header line (from --aws-fields), or the header of the file when a worker reads a later chunk. */
  awsFields?: string[];
  /** --region-map entries (lower-cased keys), for Azure. */
  regionMap?: Record<string, string>;
  /** Cloud for NetFlow/IPFIX (default "other"). */
  cloud?: string;
  /**
   * Line formats: the file's first non-blank line, trimmed. A parser reading a later chunk
   * of the file (which starts past the header) learns the column layout from it.
   */
  headerLine?: string;
}

export interface LineParser {
  /**
   * Parse the whole lines in buf[s, e) (e is just past the last '\n' or the end of input).
   * `firstLine` is the 1-based line number of the first line within the chunk;
   * `baseOffset` the byte offset of buf[s] in the decompressed file.
   * Returns the number of lines consumed (each '\n', plus a last unterminated line).
   */
  parseLines(buf: Uint8Array, s: number, e: number, firstLine: number, baseOffset: number): number;
  /** A line longer than the limit, skipped without being buffered. */
  lineTooLong(line: number, offset: number): void;
  /** The input ended inside this line (truncated compressed file): it is not parsed. */
  truncated(line: number, offset: number): void;
  /**
   * Where a file's next `size` bytes may be read, so that parseLines finds them where it
   * would otherwise copy them (the GCP and AWS readers: a window of their WebAssembly module); null or
   * absent: the caller's own buffer. Valid until the next call; parseLines gets a view of it.
   */
  readTarget?(size: number): Buffer | null;
  /**
   * The bytes a read of a plain file takes at a time for this parser, where readTarget gives a
   * place that large (absent: the reader's own block, src/input/read.ts): the GCP reader's
   * window, whose per-read JavaScript is then run fewer times (formats/gcp-wasm.ts GCP_WASM_WINDOW).
   */
  readonly readBytes?: number;
}

/**
 * A file's head as the sniffers see it. `bytes` are its first 64 KiB (after gunzip); `text`
 * is their UTF-8 decoding and `firstLine` its first non-blank line, trimmed: both made on
 * first use (formats/sniff.ts Head), since planning sniffs every blob and most sniffers say
 * no from `lead` or the bytes (decoding a 64 KiB head was a fifth of an Azure blob's plan).
 */
export interface SniffHead {
  readonly bytes: Uint8Array;
  readonly text: string;
  readonly firstLine: string;
  /** firstLine's first character code (-1: no such line), read from the bytes where they tell it. */
  readonly lead: number;
  /**
   * The HeadWord bits of the words `bytes` hold, where whoever read them searched them already
   * (the pool thread that read a blob ahead: input/blobs-ahead.ts); undefined: not searched.
   */
  readonly words?: number;
}

/** Words a head's bytes are searched for where they are read (SniffHead.words; native/files.c head_words). */
export const enum HeadWord {
  /** "message" (a CloudWatch wrapper's key: formats/aws-json.ts mayNameMessage) */
  message = 1,
  /** "\u", the only other way JSON writes its letters */
  escape = 2,
}

/** Content sniffing: true when this reader recognises the head's content. */
export type Sniffer = (head: SniffHead) => boolean;

export interface LineReader {
  kind: 'lines';
  name: FormatName;
  sniff: Sniffer;
  /**
   * The line a later chunk's parser needs to know the columns (ReaderContext.headerLine),
   * from the file's first 64 KiB; absent: the first non-blank line.
   */
  headerLine?: (text: string) => string | undefined;
  /** Why a file of this format cannot be read as flows (nfdump's aggregated output), from its first 64 KiB; null: it can. */
  refuse?: (text: string) => string | null;
  open(ctx: ReaderContext): LineParser;
}

export interface DocumentReader {
  kind: 'document';
  name: FormatName;
  sniff: Sniffer;
  /** Parse one whole document (a JSON file, say). */
  parseDocument(buf: Uint8Array, ctx: ReaderContext): void | Promise<void>;
}

/** Files that are not parsed at all but read block by block by the shard workers (replay files). */
export interface BlockFileReader {
  kind: 'blocks';
  name: FormatName;
  sniff: Sniffer;
}

export type FormatReader = LineReader | DocumentReader | BlockFileReader;
