/**
 * Input URLs: s3://bucket/prefix, az://account/container/prefix,
 * https://ACCOUNT.blob.core.windows.net/container/prefix (a SAS query string kept),
 * gs://bucket/prefix. Anything else is a local path.
 */
import type { SourceLocation } from './types.js';

const SCHEMES = /^(s3|az|gs):\/\//i;
const AZURE_HTTPS = /^https?:\/\/([^/.]+)\.blob\.core\.windows\.net\//i;

export function isSourceUrl(input: string): boolean {
  return SCHEMES.test(input) || AZURE_HTTPS.test(input);
}

export class SourceUrlError extends Error {}

/** The parts of a URL input; throws SourceUrlError with the expected shape when malformed. */
export function parseSourceUrl(input: string): SourceLocation {
  const https = AZURE_HTTPS.exec(input);
  if (https) {
    const u = new URL(input);
    const [container, ...rest] = decodeURIComponent(u.pathname).replace(/^\/+/, '').split('/');
    if (!container) throw new SourceUrlError(`${input}: expected https://ACCOUNT.blob.core.windows.net/CONTAINER[/prefix]`);
    return { scheme: 'az', account: https[1]!, bucket: container, prefix: rest.join('/'), url: input };
  }
  const m = /^(s3|az|gs):\/\/([^/?#]*)\/?([^?#]*)$/i.exec(input);
  if (!m || !m[2]) throw new SourceUrlError(`${input}: expected s3://BUCKET[/prefix], az://ACCOUNT/CONTAINER[/prefix] or gs://BUCKET[/prefix]`);
  const scheme = m[1]!.toLowerCase() as SourceLocation['scheme'];
  if (scheme === 'az') {
    const [container, ...rest] = m[3]!.split('/');
    if (!container) throw new SourceUrlError(`${input}: expected az://ACCOUNT/CONTAINER[/prefix]`);
    return { scheme, account: m[2]!, bucket: container, prefix: rest.join('/'), url: input };
  }
  return { scheme, account: '', bucket: m[2]!, prefix: m[3]!, url: input };
}
