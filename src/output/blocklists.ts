/**
 * Block lists from a scanner list (issue 15): the fewest CIDR prefixes that cover exactly
 * the listed addresses, and the same prefixes as an AWS WAF IP set, an Azure NSG deny rule,
 * AWS network ACL entries and a MISP warninglist.
 *
 * Expiry by days observed: a scanner seen on d days stays listed for `ttlDays * d` days
 * after the last day it was seen (at most `maxDays`), counted from the end of the list's
 * period, so a one-day scanner drops out after a week (the default) while one seen every
 * day stays. An entry past its expiry is left out; the others carry their expiry in the
 * CSV and JSON forms.
 */
import { isV4, parseAddress } from '../net/address.js';

export const BLOCK_FORMATS = ['cidr', 'aws-waf', 'azure-nsg', 'aws-nacl', 'misp'] as const;
export type BlockFormat = (typeof BLOCK_FORMATS)[number];

export interface BlockEntry {
  ip: string;
  days: number;
  last_seen: number; // Unix seconds
}

export interface Expiry {
  ttlDays: number; // per day observed
  maxDays: number;
  /** End of the list's period (Unix seconds): the expiries are counted from the last sighting, kept when after it. */
  asOf: number;
}

export const DEFAULT_EXPIRY = { ttlDays: 7, maxDays: 90 };

/** The entries still blocked at `asOf`, each with its expiry (Unix seconds). */
export function unexpired(entries: BlockEntry[], e: Expiry): Array<BlockEntry & { expires: number }> {
  return entries
    .map((x) => ({ ...x, expires: x.last_seen + Math.min(e.maxDays, e.ttlDays * Math.max(1, x.days)) * 86400 }))
    .filter((x) => x.expires > e.asOf);
}

function toBig(words: ArrayLike<number>): bigint {
  let v = 0n;
  for (let k = 0; k < 4; k++) v = (v << 32n) | BigInt(words[k]! >>> 0);
  return v;
}

function bigText(v: bigint, v4: boolean, prefix: number): string {
  if (v4) {
    const x = Number(v & 0xffffffffn);
    return `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}/${prefix}`;
  }
  const groups: string[] = [];
  for (let k = 7; k >= 0; k--) groups.push(((v >> BigInt(16 * k)) & 0xffffn).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes '::'
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const text = best < 0 ? groups.join(':') : `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  return `${text}/${prefix}`;
}

/**
 * The fewest prefixes covering exactly the given addresses (no address outside them):
 * IPv4 first, then IPv6, each ascending.
 */
export function aggregate(ips: readonly string[]): string[] {
  const out: string[] = [];
  for (const v4 of [true, false]) {
    const bits = v4 ? 32 : 128;
    const base = v4 ? 0xffff00000000n : 0n; // IPv4-mapped form
    const values = [...new Set(ips)]
      .map((ip) => parseAddress(ip))
      .filter((w): w is Uint32Array => w !== null && isV4(w) === v4)
      .map((w) => toBig(w) - base)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // runs of consecutive addresses, each cut into the largest aligned blocks
    let i = 0;
    while (i < values.length) {
      let j = i;
      while (j + 1 < values.length && values[j + 1] === values[j]! + 1n) j++;
      let lo = values[i]!;
      const hi = values[j]!;
      while (lo <= hi) {
        let size = 0;
        while (size < bits && (lo & ((1n << BigInt(size + 1)) - 1n)) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= hi) size++;
        out.push(bigText(lo + base, v4, bits - size));
        lo += 1n << BigInt(size);
      }
      i = j + 1;
    }
  }
  return out;
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');

/** The file of one format: name suffix and content. */
export function blockFile(format: BlockFormat, name: string, title: string, entries: Array<BlockEntry & { expires: number }>, asOf: number): { suffix: string; text: string } {
  const cidrs = aggregate(entries.map((e) => e.ip));
  const v4 = cidrs.filter((c) => !c.includes(':'));
  const v6 = cidrs.filter((c) => c.includes(':'));
  const soonest = entries.length ? iso(Math.min(...entries.map((e) => e.expires))) : null;
  const note = `${title}: ${entries.length} scanner IPs in ${cidrs.length} prefixes, as of ${iso(asOf)}${soonest ? `; first expiry ${soonest}` : ''}`;
  switch (format) {
    case 'cidr':
      return { suffix: 'cidr.txt', text: [`# ${note}`, ...cidrs].join('\n') + '\n' };
    case 'aws-waf': {
      // one IP set per address family (a WAF IP set holds one version), for `aws wafv2 create-ip-set --cli-input-json`
      const set = (version: 'IPV4' | 'IPV6', addresses: string[]) => ({
        Name: `flowsieve-${name}-${version.toLowerCase()}`.slice(0, 128),
        Scope: 'REGIONAL',
        IPAddressVersion: version,
        Description: note.replace(/[^\w\s.,:;/()-]/g, '').slice(0, 256),
        Addresses: addresses.slice(0, 10000),
      });
      return { suffix: 'aws-waf.json', text: JSON.stringify([set('IPV4', v4), ...(v6.length ? [set('IPV6', v6)] : [])], null, 2) + '\n' };
    }
    case 'azure-nsg':
      // a securityRules entry for an ARM template or `az network nsg rule create --source-address-prefixes`
      return {
        suffix: 'azure-nsg.json',
        text: JSON.stringify({
          name: `flowsieve-deny-${name}`.slice(0, 80),
          properties: {
            description: note.slice(0, 140),
            priority: 100,
            direction: 'Inbound',
            access: 'Deny',
            protocol: '*',
            sourceAddressPrefixes: cidrs.slice(0, 4000),
            sourcePortRange: '*',
            destinationAddressPrefix: '*',
            destinationPortRange: '*',
          },
        }, null, 2) + '\n',
      };
    case 'aws-nacl': {
      // a network ACL holds 20 rules a direction by default: the first 18, leaving room for allow rules
      const lines = ['#!/bin/sh', `# ${note}`, '# Network ACLs take few rules (20 by default): the first 18 prefixes; set NACL_ID first.', ': "${NACL_ID:?set NACL_ID to the network ACL id (acl-...)}"'];
      cidrs.slice(0, 18).forEach((c, k) => {
        const flag = c.includes(':') ? '--ipv6-cidr-block' : '--cidr-block';
        lines.push(`aws ec2 create-network-acl-entry --network-acl-id "$NACL_ID" --ingress --rule-number ${100 + k} --protocol -1 ${flag} ${c} --rule-action deny`);
      });
      return { suffix: 'aws-nacl.sh', text: lines.join('\n') + '\n' };
    }
    case 'misp':
      return {
        suffix: 'misp.json',
        text: JSON.stringify({
          name: `flowsieve ${title}`,
          version: Number(iso(asOf).slice(0, 10).replace(/-/g, '')),
          description: note,
          matching_attributes: ['ip-src', 'ip-dst', 'domain|ip', 'ip-src|port', 'ip-dst|port'],
          type: 'cidr',
          list: cidrs,
        }, null, 2) + '\n',
      };
  }
}
