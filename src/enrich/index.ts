/**
 * Enrichment of scanner IPs, once per distinct address of a run: country and network
 * (ipdb.ts), known scanning service (actors.ts) and, opt-in, forward-confirmed reverse
 * DNS (rdns.ts). Everything is offline except --rdns.
 */
import { ActorIndex } from './actors.js';
import { IpDatabases, type IpDbSources } from './ipdb.js';
// rdns.ts (node:dns, node:net) is loaded by the runs that ask for it (--rdns)
import type { RdnsOptions } from './rdns.js';
import { HomeNet } from '../net/home-net.js';

export interface EnrichOptions {
  geoipDb?: string;
  asnDb?: string;
  actors?: string[]; // user lists
  builtinActors?: boolean; // src/data/actors.json (default true)
  rdns?: boolean;
  rdnsOptions?: Partial<RdnsOptions>;
  /** --home-net: addresses inside are the user's own, not public: no country or network. */
  homeNet?: readonly string[];
}

/** What is known about one scanner IP. Field names are the output columns. */
export interface IpFacts {
  country: string | null;
  asn: number | null;
  as_org: string | null;
  actor: string | null;
  actor_via: 'cidr' | 'asn' | 'rdns' | null;
  actor_source: string | null;
  rdns: string | null; // forward-confirmed reverse name (only with --rdns)
}

/** The extra columns of scans.ndjson / scans.csv, after the detection.md §7 columns. */
export const ENRICH_COLUMNS = ['country', 'asn', 'as_org', 'actor', 'rdns'] as const;

export interface EnrichmentSources extends IpDbSources {
  actors: string[];
  rdns: boolean;
}

export interface Enrichment {
  facts: Map<string, IpFacts>; // by address text (as in the verdicts' src)
  sources: EnrichmentSources;
  warnings: string[];
  rdns: { looked_up: number; confirmed: number; failed: number } | null;
}

export interface Address {
  text: string;
  words: ArrayLike<number>;
}

export class Enricher {
  private readonly db: IpDatabases;
  private readonly actors: ActorIndex;

  /** Opens every database and list now: a bad path is an error before any detection work. */
  constructor(private readonly opts: EnrichOptions = {}) {
    this.db = new IpDatabases({ geoipDb: opts.geoipDb, asnDb: opts.asnDb });
    this.actors = ActorIndex.load(opts.actors ?? [], opts.builtinActors ?? true);
  }

  /** Open the databases' parts the first lookup needs (IpDatabases.prepare). */
  prepare(): void {
    this.db.prepare();
  }

  async enrich(addresses: readonly Address[]): Promise<Enrichment> {
    const uniq = new Map<string, ArrayLike<number>>();
    for (const a of addresses) if (!uniq.has(a.text)) uniq.set(a.text, a.words);
    const net = this.db.lookup([...uniq.values()]);
    let rdnsNames = new Map<string, string>();
    let rdns: Enrichment['rdns'] = null;
    if (this.opts.rdns && uniq.size > 0) {
      const { reverseLookup } = await import('./rdns.js');
      const r = await reverseLookup([...uniq.keys()], this.opts.rdnsOptions);
      rdnsNames = r.names;
      rdns = { looked_up: r.looked_up, confirmed: r.confirmed, failed: r.failed };
    }
    const facts = new Map<string, IpFacts>();
    const home = new HomeNet(this.opts.homeNet ?? []);
    for (const [text, words] of uniq) {
      // a database may place private ranges somewhere (the bundled one says AU for 172.16/12):
      // an address that is not public has no country or network
      const n = (home.isPublic(words, 0) && net.get(text)) || { country: null, asn: null, as_org: null };
      const name = rdnsNames.get(text) ?? null;
      const m = this.actors.match(words, n.asn, name);
      facts.set(text, { ...n, actor: m?.actor ?? null, actor_via: m?.via ?? null, actor_source: m?.source ?? null, rdns: name });
    }
    return {
      facts,
      sources: { ...this.db.sources, actors: this.actors.sources, rdns: Boolean(this.opts.rdns) },
      warnings: [...this.db.warnings, ...this.actors.warnings],
      rdns,
    };
  }
}

/** The extra column values of one verdict's source. */
export function enrichColumns(facts: IpFacts | undefined): Record<(typeof ENRICH_COLUMNS)[number], string | number | null> {
  return {
    country: facts?.country ?? null,
    asn: facts?.asn ?? null,
    as_org: facts?.as_org ?? null,
    actor: facts?.actor ?? null,
    rdns: facts?.rdns ?? null,
  };
}
