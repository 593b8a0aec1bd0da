/** CIDR lists (allow lists, the user's own ranges): parsed once, matched per verdict, not per record. */
import { readFileSync } from 'node:fs';
import { parseAddress } from './address.js';

export interface Cidr {
  words: Uint32Array;
  prefix: number; // over the 128-bit form (IPv4 /n is /96+n)
  text: string;
}

export function parseCidr(text: string): Cidr | null {
  const [addr, len] = text.trim().split('/');
  const words = parseAddress(addr ?? '');
  if (!words) return null;
  const isV4 = !(addr ?? '').includes(':');
  const max = isV4 ? 32 : 128;
  const n = len === undefined ? max : Number(len);
  if (!Number.isInteger(n) || n < 0 || n > max) return null;
  return { words, prefix: isV4 ? 96 + n : n, text: text.trim() };
}

export function cidrContains(c: Cidr, w: ArrayLike<number>): boolean {
  let bits = c.prefix;
  for (let k = 0; k < 4 && bits > 0; k++) {
    const take = Math.min(32, bits);
    const mask = take === 32 ? 0xffffffff : (0xffffffff << (32 - take)) >>> 0;
    if (((c.words[k]! ^ w[k]!) & mask) >>> 0 !== 0) return false;
    bits -= take;
  }
  return true;
}

/**
 * A list file: one entry per line, '#' comments. Entries that are not CIDRs or addresses
 * are returned as `names` (interface ids, instance ids) for allow lists.
 */
export function readListFile(path: string): { cidrs: Cidr[]; names: Set<string>; errors: string[] } {
  const cidrs: Cidr[] = [];
  const names = new Set<string>();
  const errors: string[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const c = parseCidr(line);
      if (c) cidrs.push(c);
      else if (/^[\w.:-]+$/.test(line) && !/^[\d.]+$/.test(line)) names.add(line);
      else errors.push(`${path}:${i + 1}: not a CIDR, address or id: ${line}`);
    });
  return { cidrs, names, errors };
}
