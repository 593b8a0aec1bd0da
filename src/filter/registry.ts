/**
 * The formats `flowsieve filter` can write back. To add one, write a FormatFilter (see
 * types.ts) for a format the readers know, and list it here.
 */
import type { FormatName } from '../formats/types.js';
import { awsTextFilter } from './aws.js';
import type { FormatFilter } from './types.js';

const FILTERS: FormatFilter[] = [awsTextFilter];

export function filterFor(format: FormatName): FormatFilter | undefined {
  return FILTERS.find((f) => f.name === format);
}

export function filterableFormats(): FormatName[] {
  return FILTERS.map((f) => f.name);
}
