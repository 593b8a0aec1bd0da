/** Every input format, by name. Add a reader here and to sniff.ts to support a new format. */
import { awsText } from './aws.js';
import type { FormatName, FormatReader } from './types.js';

const READERS: Partial<Record<FormatName, FormatReader>> = {
  'aws-text': awsText,
};

export function readerFor(name: FormatName): FormatReader | undefined {
  return READERS[name];
}

export function supportedFormats(): FormatName[] {
  return Object.keys(READERS) as FormatName[];
}
