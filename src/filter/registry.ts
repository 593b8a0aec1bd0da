/**
 * The formats `flowsieve filter` can write back. Every line format the readers know is
 * filterable through its reader (reader.ts); a format may have a dedicated, faster filter
 * (FILTERS). Document formats (one JSON document per file) need a filter of their own.
 */
import type { FormatName } from '../formats/types.js';
import { allReaders } from '../formats/registry.js';
import { awsTextFilter } from './aws.js';
import { readerFilter } from './reader.js';
import type { FormatFilter } from './types.js';
import { documentFilterFor } from './document.js';

/** Dedicated filters, used instead of the reader-based one. */
const FILTERS: FormatFilter[] = [awsTextFilter];

/** Line formats whose every line is one JSON object: --mode tag adds a field to it. */
const JSON_LINE_FORMATS = new Set<FormatName>(['goflow2', 'aws-json', 'gcp']);

export function filterFor(format: FormatName): FormatFilter | undefined {
  const own = FILTERS.find((f) => f.name === format);
  if (own) return own;
  const reader = allReaders().find((r) => r.name === format);
  return reader && reader.kind === 'lines' ? readerFilter(reader, JSON_LINE_FORMATS.has(format)) : undefined;
}

export function filterableFormats(): FormatName[] {
  return allReaders()
    .map((r) => r.name)
    .filter((n) => filterFor(n) !== undefined || documentFilterFor(n) !== undefined);
}

/** Whether --mode tag can mark a format's scan records (JSON objects can carry a field). */
export function canTag(format: FormatName): boolean {
  return (filterFor(format) ?? documentFilterFor(format))?.canTag ?? false;
}
