import { describe, expect, it } from 'vitest';
import { formatAddress, isPublicAddress, parseAddress, compareAddress } from '../dist/src/net/address.js';

describe('addresses', () => {
  it('parses and formats IPv4 and IPv6 (RFC 5952)', () => {
    expect(formatAddress(parseAddress('45.1.2.3')!)).toBe('45.1.2.3');
    expect(formatAddress(parseAddress('2001:DB8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(formatAddress(parseAddress('2001:0db8:0000:0000:0000:0000:0002:0001')!)).toBe('2001:db8::2:1');
    expect(formatAddress(parseAddress('::')!)).toBe('::');
    expect(formatAddress(parseAddress('::1')!)).toBe('::1');
    expect(formatAddress(parseAddress('fe80::1:2')!)).toBe('fe80::1:2');
    expect(formatAddress(parseAddress('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3');
  });
  it('treats IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(formatAddress(parseAddress('::ffff:192.0.2.33')!)).toBe('192.0.2.33');
    expect(formatAddress(parseAddress('::ffff:c000:221')!)).toBe('192.0.2.33');
  });
  it('rejects malformed addresses', () => {
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1::2::3', '12345::', 'g::1', '', '1.2.3.4:80', ':1', '1:2:3:4:5:6:7:8:9']) {
      expect(parseAddress(bad), bad).toBeNull();
    }
  });
  it('knows the non-public ranges of detection.md §3', () => {
    for (const p of ['8.8.8.8', '45.1.2.3', '2600::1', '100.128.0.1', '172.32.0.1', '198.20.0.1']) expect(isPublicAddress(p), p).toBe(true);
    for (const p of [
      '0.1.2.3', '10.1.1.1', '100.64.0.1', '127.0.0.1', '169.254.1.1', '172.16.0.1', '172.31.255.255', '192.0.0.5',
      '192.0.2.1', '192.168.1.1', '198.18.0.1', '198.19.255.1', '198.51.100.7', '203.0.113.9', '224.0.0.1', '255.255.255.255',
      '::', '::1', 'fd00::1', 'fc00::1', 'fe80::1', 'ff02::1', '2001:db8::1',
    ]) expect(isPublicAddress(p), p).toBe(false);
  });
  it('orders IPv4 before IPv6, numerically', () => {
    const a = ['2600::1', '9.9.9.9', '10.0.0.1', '::2'].map((t) => parseAddress(t)!);
    a.sort((x, y) => compareAddress(x, 0, y, 0));
    expect(a.map((w) => formatAddress(w))).toEqual(['9.9.9.9', '10.0.0.1', '::2', '2600::1']);
  });
});

describe('address hashing', () => {
  it('gives the values replay files, spill partitions and partial results were written with', async () => {
    const { hashAddress } = await import('../dist/src/flow/hash.js');
    // pinned: a change here would scatter existing replay files' buckets and spill partitions
    expect(hashAddress(parseAddress('45.6.1.1')!, 0)).toBe(3216626671);
    expect(hashAddress(parseAddress('0.0.0.0')!, 0)).toBe(501047157);
    expect(hashAddress(parseAddress('255.255.255.255')!, 0)).toBe(224863182);
    expect(hashAddress(parseAddress('2001:db8::1')!, 0)).toBe(2466856984);
  });

  it('an IPv4 address hashes as its four words mixed one by one (the precomputed IPv4 prefix changes no value)', async () => {
    const { fmix32, hashAddress, mix } = await import('../dist/src/flow/hash.js');
    const reference = (w: Uint32Array, o: number) => {
      let h = 0x9747b28c;
      for (let k = 0; k < 4; k++) h = mix(h, w[o + k]!);
      return fmix32(h ^ 16);
    };
    let x = 12345;
    const next = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
    const w = new Uint32Array(8);
    for (let n = 0; n < 4000; n++) {
      const o = n & 4;
      // IPv4-mapped, near misses of its prefix, and IPv6
      const kind = n % 5;
      w[o] = kind === 1 ? 1 : kind === 4 ? next() : 0;
      w[o + 1] = kind === 2 ? 0x80000000 : kind === 4 ? next() : 0;
      w[o + 2] = kind === 3 ? 0xfffe : kind === 4 ? next() : 0xffff;
      w[o + 3] = next();
      expect(hashAddress(w, o)).toBe(reference(w, o));
    }
  });
});
