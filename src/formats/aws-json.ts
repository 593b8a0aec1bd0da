/**
 * AWS VPC Flow Logs wrapped in JSON (formats.md §1.5):
 *
 * - Firehose: one `{"message":"<flow-log line>"}` per line;
 * - CloudWatch Logs subscription deliveries: `{"messageType":"DATA_MESSAGE","owner":…,
 *   "logEvents":[{"message":"<flow-log line>"},…]}` (already decompressed; Lambda's
 *   base64 is the caller's business). `CONTROL_MESSAGE` envelopes carry no flows and are
 *   counted as no-data.
 *
 * `aws-json` reads one such object per line (a line reader: big files are split across
 * workers); `aws-cloudwatch` reads a whole document of them, pretty-printed, in an
 * array, or concatenated (`}{`), as Firehose writes subscription data to S3.
 *
 * Each message is parsed by the AWS text reader (aws.ts), so the two cannot disagree.
 * CloudWatch messages have no header line: the field list is --aws-fields, else the
 * default v2 format. An envelope's `owner` is the account when the message has none.
 *
 * Counting (detection.md §6, sink.ts accountingGap): `counters.lines` counts input units with one
 * fate each: every message (a record, no-data or a reject, from the AWS reader), or the
 * object itself when it has none (a CONTROL_MESSAGE is no-data, anything else a reject),
 * and blank lines. A Firehose line is one unit; an envelope line of n events is n units,
 * so there `lines` exceeds the physical line count.
 */
import type { FlowSink } from '../flow/sink.js';
import { HeadWord, type DocumentReader, type LineParser, type LineReader, type ReaderContext, type SniffHead } from './types.js';
import { awsRecordParser } from './aws.js';
import { JsonScanner, LineCounter, lit } from './json-bytes.js';
import { documentShaped, firstLineObject, JsonLinesParser, ValueDocument } from './json-doc.js';

const K_MESSAGE = lit('message');
const K_MESSAGE_TYPE = lit('messageType');
const K_OWNER = lit('owner');
const K_LOG_EVENTS = lit('logEvents');
const CONTROL = lit('CONTROL_MESSAGE');

const REJECT_TEXT = 200;

/** The reader of one wrapper object; shared by the line and document readers. */
class AwsWrappers {
  readonly sc = new JsonScanner();
  private readonly aws: ReturnType<typeof awsRecordParser>;
  private readonly sink: FlowSink;
  // the object being read: its messages (spans in the input or the arena) and owner
  private msgS = new Int32Array(64);
  private msgE = new Int32Array(64);
  private msgArena = new Uint8Array(64);
  private msgOff = new Int32Array(64);
  private n = 0;
  /** The message slot of the object being read (-1: none yet): a repeated key replaces it, as JSON.parse keeps the last. */
  private slot = -1;
  private ownerS = -1;
  private ownerE = -1;
  private ownerInArena = false;
  private control = false;
  private bad: string | null = null;

  constructor(ctx: ReaderContext) {
    this.sink = ctx.sink;
    this.aws = awsRecordParser(ctx);
  }

  /**
   * Read the object at sc.pos and parse its messages; returns the number of units given
   * a fate (see the counting above). `delta` turns a buffer index into a file offset;
   * `lines`, for documents, gives each message its own line number, and null means the
   * object is a whole line (nothing may follow it). Throws JsonError on a syntax error,
   * having emitted nothing.
   */
  object(line: number, delta: number, lines: LineCounter | null): number {
    const sc = this.sc;
    const start = sc.pos;
    if (sc.peek() !== 123) {
      sc.skip();
      if (lines === null) sc.expectEnd();
      this.sink.reject(line, start + delta, 'not an object (expected {"message":…} or a CloudWatch Logs envelope)', sc.buf, start, Math.min(sc.pos, start + REJECT_TEXT));
      return 1;
    }
    this.n = 0;
    this.ownerS = -1;
    this.control = false;
    this.bad = null;
    let topMessage = false;
    let events = false;
    if (sc.openObject()) {
      this.slot = -1;
      do {
        sc.key();
        if (sc.is(K_MESSAGE)) {
          topMessage = true;
          this.message();
        }
        else if (sc.is(K_MESSAGE_TYPE)) {
          if (sc.peek() === 34) {
            sc.str();
            this.control = sc.is(CONTROL);
          } else sc.skip();
        } else if (sc.is(K_OWNER)) {
          if (sc.peek() === 34) {
            sc.str();
            this.ownerS = sc.strS;
            this.ownerE = sc.strE;
            this.ownerInArena = sc.strInArena;
          } else sc.skip();
        } else if (sc.is(K_LOG_EVENTS)) {
          events = true;
          this.logEvents();
        } else sc.skip();
      } while (sc.nextMember());
    }
    if (lines === null) sc.expectEnd();
    // a Firehose record has "message", a CloudWatch envelope "logEvents": never both
    if (topMessage && events) this.bad ??= 'both "message" and "logEvents" (neither a Firehose record nor a CloudWatch envelope)';
    const sink = this.sink;
    if (this.bad !== null) {
      sink.reject(line, start + delta, this.bad, sc.buf, start, Math.min(sc.pos, start + REJECT_TEXT));
      return 1;
    }
    if (this.control) {
      sink.noData(); // CloudWatch's own heartbeat: no flow records
      return 1;
    }
    if (this.n === 0) {
      sink.reject(line, start + delta, 'no "message" or "logEvents" (not an AWS flow-log wrapper)', sc.buf, start, Math.min(sc.pos, start + REJECT_TEXT));
      return 1;
    }
    const account =
      this.ownerS >= 0 && this.ownerE > this.ownerS
        ? sink.dict.idOfBytes(this.ownerInArena ? sc.arena : sc.buf, this.ownerS, this.ownerE)
        : this.aws.fileAccount;
    // a message the AWS reader refuses is a bad record inside good JSON, not a sign that
    // the file changes format (its text looks like aws-text, of course): no probing
    const probe = sink.formatProbe;
    sink.formatProbe = null;
    for (let i = 0; i < this.n; i++) {
      const b = this.msgArena[i] ? sc.arena : sc.buf;
      const off = this.msgOff[i]! + delta;
      this.aws.parseRecord(b, this.msgS[i]!, this.msgE[i]!, lines ? lines.lineAt(this.msgOff[i]!) : line, off, account);
    }
    sink.formatProbe = probe;
    return this.n;
  }

  /** A "message" member: one flow-log line. */
  private message(): void {
    const sc = this.sc;
    if (sc.peek() !== 34) {
      this.bad ??= '"message" is not a string';
      sc.skip();
      return;
    }
    const off = sc.pos;
    sc.str();
    if (this.n === this.msgS.length) this.grow();
    if (this.slot < 0) this.slot = this.n++;
    const i = this.slot;
    this.msgS[i] = sc.strS;
    this.msgE[i] = sc.strE;
    this.msgArena[i] = sc.strInArena ? 1 : 0;
    this.msgOff[i] = off;
  }

  private logEvents(): void {
    const sc = this.sc;
    if (sc.peek() !== 91) {
      if (!sc.skipNull()) {
        this.bad ??= '"logEvents" is not an array';
        sc.skip();
      }
      return;
    }
    if (!sc.openArray()) return;
    do {
      if (sc.peek() !== 123) {
        this.bad ??= 'a logEvents element is not an object';
        sc.skip();
        continue;
      }
      if (!sc.openObject()) continue;
      const top = this.slot;
      this.slot = -1;
      do {
        sc.key();
        if (sc.is(K_MESSAGE)) this.message();
        else sc.skip();
      } while (sc.nextMember());
      this.slot = top;
    } while (sc.nextElement());
  }

  private grow(): void {
    const n = this.msgS.length * 2;
    const g = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.msgS = g(this.msgS);
    this.msgE = g(this.msgE);
    this.msgOff = g(this.msgOff);
    const a = new Uint8Array(n);
    a.set(this.msgArena);
    this.msgArena = a;
  }
}

/** One wrapper object a line. */
function awsJsonLines(ctx: ReaderContext): LineParser {
  const w = new AwsWrappers(ctx);
  const counters = ctx.sink.counters;
  // the line is one unit (counted by parseJsonLines); an envelope's other events are more
  return new JsonLinesParser(ctx.sink, w.sc, (line, _offset, delta) => {
    counters.lines += w.object(line, delta, null) - 1;
  });
}

/** A document of wrapper objects: each object's messages are its units. */
function awsJsonDocument(buf: Uint8Array, ctx: ReaderContext): ValueDocument {
  const w = new AwsWrappers(ctx);
  const counters = ctx.sink.counters;
  return new ValueDocument(buf, ctx.sink, w.sc, 'object', (line, _start, lines) => {
    counters.lines += w.object(line, 0, lines);
  });
}

/** A wrapper object as JSON.parse gives it (sniffing only). */
function isWrapper(o: Record<string, unknown> | null): boolean {
  if (o === null) return false;
  if (typeof o.message === 'string') return true;
  return typeof o.messageType === 'string' && Array.isArray(o.logEvents);
}

/**
 * False when a line cannot hold a "message" or "messageType" key: neither the word nor a
 * \u escape (the only other way to write its letters). Spares JSON.parse of every other
 * one-line JSON file's head (an Azure blob is often one line of 64 KiB).
 */
function mayNameMessage(head: SniffHead): boolean {
  // the head's bytes first: a native search, ~8x faster than a string's includes here,
  // and a line of the head has neither when the head has neither (nor is it decoded); a
  // blob read ahead was searched by the pool thread that read it (SniffHead.words)
  if (head.words !== undefined) {
    if ((head.words & (HeadWord.message | HeadWord.escape)) === 0) return false;
  } else {
    const bytes = head.bytes;
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (!b.includes(MESSAGE_BYTES) && !b.includes(ESCAPE_BYTES)) return false;
  }
  const line = head.firstLine;
  return line.includes('message') || line.includes('\\u');
}

const MESSAGE_BYTES = Buffer.from('message');
const ESCAPE_BYTES = Buffer.from('\\u');

/** The start of a wrapper line, for a first line too damaged to parse. */
const WRAPPER_START = /^\{\s*"(message"\s*:\s*"|messageType"\s*:)/;

export const awsJson: LineReader = {
  kind: 'lines',
  name: 'aws-json',
  // formats.md §6 rule 4, one object per line
  // (WRAPPER_START implies mayNameMessage, which is tested first: it is the cheap "no" for
  // the other JSON formats, whose first line can be a whole 64 KiB blob)
  sniff: (head) =>
    head.lead === 123 &&
    mayNameMessage(head) &&
    !documentShaped(head.text, head.firstLine) &&
    (isWrapper(firstLineObject(head.firstLine)) || WRAPPER_START.test(head.firstLine)),
  open: awsJsonLines,
};

export const awsCloudWatch: DocumentReader = {
  kind: 'document',
  name: 'aws-cloudwatch',
  // the same objects, not one per line: pretty-printed, in an array, or run together
  sniff: ({ text, firstLine }) =>
    documentShaped(text, firstLine) && ((text.includes('"messageType"') && text.includes('"logEvents"')) || /"message"\s*:\s*"/.test(text)),
  parseDocument: (buf, ctx) => awsJsonDocument(buf, ctx).run(),
};
