/**
 * Every input format, by name. To support a new format, write a reader module (see
 * types.ts) and add it to READERS: its place in the list is its priority when sniffing.
 */
import { awsText } from './aws.js';
import { replayReader } from './replay.js';
import { awsCloudWatch, awsJson } from './aws-json.js';
import { azureNsg, azureVnet } from './azure.js';
import { gcpJson, gcpLines } from './gcp.js';
import { nfdumpCsv } from './nfdump.js';
import { goflow2 } from './goflow2.js';
import { parquetReader } from './parquet.js';
import { zeekConn } from './zeek.js';
import type { FormatName, FormatReader } from './types.js';

const READERS: FormatReader[] = [
  replayReader, // binary magic: the most specific, so first
  parquetReader, // binary magic PAR1
  awsText,
  awsJson, // {"message":…} / CloudWatch envelope, one per line
  azureNsg, // JSON naming NetworkSecurityGroupFlowEvent
  azureVnet, // JSON naming FlowLogFlowEvent
  gcpLines, // vpc_flows LogEntries, one per line
  gcpJson, // vpc_flows LogEntries in an array or pretty-printed
  awsCloudWatch, // last of the cloud JSON readers: its "message" marker is the weakest
  zeekConn, // '#separator' header, or JSON naming id.orig_h and conn_state
  nfdumpCsv, // needs commas, which AWS lines never have, and no leading '{'
  goflow2, // JSON: after the cloud JSON readers, which key on their own fields (formats.md §6 rule 8)
];

/** Each name's reader (the first of that name in READERS): planning and the parse threads ask a few times a file. */
const BY_NAME = new Map<string, FormatReader>();
for (const r of READERS) if (!BY_NAME.has(r.name)) BY_NAME.set(r.name, r);

export function readerFor(name: FormatName): FormatReader | undefined {
  return BY_NAME.get(name);
}

export function supportedFormats(): FormatName[] {
  return READERS.map((r) => r.name);
}

/** Readers in sniffing order. */
export function allReaders(): readonly FormatReader[] {
  return READERS;
}
