/** Enrichment correctness (issue 15): no country or network for addresses that are not public. */
import { describe, expect, it } from 'vitest';
import { parseAddress } from '../dist/src/net/address.js';
import { Enricher } from '../dist/src/enrich/index.js';
import { IpDatabases } from '../dist/src/enrich/ipdb.js';

const a = (text: string) => ({ text, words: parseAddress(text)! });

describe('enrichment of non-public addresses', () => {
  it('gives no country or network to private ranges the database places somewhere, nor to home networks', async () => {
    const raw = new IpDatabases().lookup([a('172.16.0.5').words, a('192.168.1.1').words]);
    // the bundled database answers for these ranges; the enricher must not pass that through
    const placed = [...raw.values()].filter((f) => f.country !== null || f.asn !== null).length;
    const e = await new Enricher({ homeNet: ['8.8.8.0/24'] }).enrich(['172.16.0.5', '192.168.1.1', '100.64.1.1', 'fd00::1', '8.8.8.8', '1.1.1.1'].map(a));
    const geo = (ip: string) => [e.facts.get(ip)!.country, e.facts.get(ip)!.asn, e.facts.get(ip)!.as_org];
    for (const ip of ['172.16.0.5', '192.168.1.1', '100.64.1.1', 'fd00::1', '8.8.8.8']) expect(geo(ip), ip).toEqual([null, null, null]);
    expect(e.facts.get('1.1.1.1')!.asn).toBe(13335);
    expect(placed).toBe(2); // the bundled country database says AU for both: the enricher's check is what keeps them out
  });
});
