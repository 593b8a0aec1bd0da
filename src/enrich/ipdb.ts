/**
 * Country and network (ASN, organisation) of addresses, offline.
 *
 * Defaults: the installed npm packages @ip-location-db/geo-whois-asn-country-mmdb
 * (country, MaxMind DB format, IPv4 and IPv6) and @ip-location-db/asn (ASN range CSVs).
 * `--geoip-db FILE` and `--asn-db FILE` replace them with any MaxMind-format database:
 * GeoLite2/GeoIP2 Country or City (country.iso_code), ip-location-db country mmdb
 * (country_code), GeoLite2-ASN or ip-location-db asn-mmdb (autonomous_system_number,
 * autonomous_system_organization).
 *
 * Lookups are made once per distinct address of a run, never per record.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reader, Response } from 'maxmind';
import { compareAddress, formatAddress, isV4 } from '../net/address.js';
import { lookupV4, lookupV6, type AsnAnswer } from './asn-csv.js';
import { lookupIndexed, prepareIndex } from './asn-index.js';

export interface NetInfo {
  country: string | null; // ISO 3166-1 alpha-2
  asn: number | null;
  as_org: string | null;
}

export interface IpDbOptions {
  geoipDb?: string; // a MaxMind-format file with country data
  asnDb?: string; // a MaxMind-format file with ASN data
}

export interface IpDbSources {
  country: string | null; // what answered country lookups, null when none is available
  asn: string | null;
}

type AnyRecord = Record<string, unknown>;

function packageDir(name: string): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

function packageLabel(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
  return `${pkg.name}@${pkg.version}`;
}

function openMmdb(path: string, what: string): Reader<Response> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new Error(`${what} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    // required here, not imported: only runs given --geoip-db or --asn-db need maxmind
    const { Reader: MmdbReader } = loadMaxmind();
    return new MmdbReader<Response>(buf);
  } catch (err) {
    throw new Error(`${what} ${path}: not a MaxMind DB file (${(err as Error).message})`);
  }
}

/**
 * maxmind as the build bundled it (scripts/bundle.mjs), through the loader with V8's code
 * cache: from node_modules its 13 modules cost ~6 ms of CPU to resolve and compile at every
 * enriched run (bench/RESULTS.md, "piscache"); the package itself where there is no bundle.
 */
function loadMaxmind(): typeof import('maxmind') {
  const require = createRequire(import.meta.url);
  const bundle = fileURLToPath(new URL('../../workers/maxmind.bundle.cjs', import.meta.url));
  if (!existsSync(bundle)) return require('maxmind') as typeof import('maxmind');
  const loader = require('../../workers/code-cache.cjs') as { requireCached(file: string): unknown };
  return loader.requireCached(bundle) as typeof import('maxmind');
}

/** ISO country code from the record shapes of the common databases. */
function countryOf(r: AnyRecord | null): string | null {
  if (!r) return null;
  const pick = (x: unknown) => (typeof x === 'string' && x.length > 0 ? x.toUpperCase() : null);
  const nested = (k: string) => pick((r[k] as AnyRecord | undefined)?.iso_code);
  return pick(r.country_code) ?? nested('country') ?? nested('registered_country') ?? null;
}

function asnOf(r: AnyRecord | null): AsnAnswer | undefined {
  if (!r) return undefined;
  const asn = Number(r.autonomous_system_number ?? r.asn);
  if (!Number.isInteger(asn) || asn <= 0) return undefined;
  const org = r.autonomous_system_organization ?? r.as_org ?? r.organization ?? '';
  return { asn, org: String(org) };
}

export class IpDatabases {
  private countryReader: Reader<Response> | null = null;
  private countryFile: string | null = null; // the bundled database, opened at the first lookup
  private readonly asnReader: Reader<Response> | null;
  private readonly asnCsv: { v4: string; v6: string } | null;
  readonly sources: IpDbSources;
  readonly warnings: string[] = [];

  /** Opens the databases now, so that a bad path fails before a long detection run. */
  constructor(opts: IpDbOptions = {}) {
    const sources: IpDbSources = { country: null, asn: null };
    if (opts.geoipDb) {
      this.countryReader = openMmdb(opts.geoipDb, '--geoip-db');
      sources.country = `${opts.geoipDb} (${this.countryReader.metadata.databaseType})`;
    } else {
      const dir = packageDir('@ip-location-db/geo-whois-asn-country-mmdb');
      const file = dir && join(dir, 'geo-whois-asn-country.mmdb');
      if (file && existsSync(file)) {
        this.countryFile = file;
        sources.country = `${packageLabel(dir)} (geo-whois-asn-country.mmdb; CC BY 4.0 NRO, CC0 GeoFeed/whois)`;
      } else {
        this.warnings.push('no country database: install @ip-location-db/geo-whois-asn-country-mmdb or pass --geoip-db FILE');
      }
    }
    this.asnReader = null;
    this.asnCsv = null;
    if (opts.asnDb) {
      this.asnReader = openMmdb(opts.asnDb, '--asn-db');
      sources.asn = `${opts.asnDb} (${this.asnReader.metadata.databaseType})`;
    } else {
      const dir = packageDir('@ip-location-db/asn');
      const v4 = dir && join(dir, 'asn-ipv4-num.csv');
      const v6 = dir && join(dir, 'asn-ipv6.csv');
      if (v4 && v6 && existsSync(v4) && existsSync(v6)) {
        this.asnCsv = { v4, v6 };
        sources.asn = `${packageLabel(dir)} (asn-ipv4-num.csv, asn-ipv6.csv; CC BY 4.0 RouteViews, DB-IP, NRO)`;
      } else {
        this.warnings.push('no ASN database: install @ip-location-db/asn or pass --asn-db FILE');
      }
    }
    this.sources = sources;
  }

  private get country(): Reader<Response> | null {
    if (!this.countryReader && this.countryFile) this.countryReader = openMmdb(this.countryFile, 'country database');
    return this.countryReader;
  }

  /**
   * Open now what the first lookup would (the bundled country database, the IPv4 ASN index): a
   * caller with a thread otherwise waiting (detect, while the shards finalise) takes ~20 ms
   * off the run's serial end. Errors are left to the lookup, which reports them.
   */
  prepare(): void {
    try {
      void this.country;
      // the IPv6 index (5 MB) is left to a lookup that needs it: most runs have no IPv6 scanner
      if (this.asnCsv) prepareIndex(this.asnCsv.v4, 4);
    } catch {
      // the lookup opens them again and says what is wrong
    }
  }

  /** Network facts for each distinct address (four-word form), keyed by address text. */
  lookup(addresses: readonly ArrayLike<number>[]): Map<string, NetInfo> {
    if (addresses.length === 0) return new Map();
    const uniq = new Map<string, ArrayLike<number>>();
    for (const w of addresses) {
      const text = formatAddress(w);
      if (!uniq.has(text)) uniq.set(text, w);
    }
    const out = new Map<string, NetInfo>();
    const country = this.country;
    for (const [text] of uniq) {
      out.set(text, { country: country ? countryOf(this.safeGet(country, text)) : null, asn: null, as_org: null });
    }
    const asns = this.asnReader
      ? this.asnFromMmdb(this.asnReader, [...uniq.keys()])
      : this.asnCsv
        ? this.asnFromCsv(this.asnCsv, uniq)
        : new Map<string, AsnAnswer>();
    for (const [text, a] of asns) {
      const info = out.get(text)!;
      info.asn = a.asn;
      info.as_org = a.org || null;
    }
    return out;
  }

  private safeGet(r: Reader<Response>, text: string): AnyRecord | null {
    // an IPv4-only database would walk its tree with an IPv6 address's first bits: a wrong answer
    if (r.metadata.ipVersion === 4 && text.includes(':')) return null;
    try {
      return r.get(text) as AnyRecord | null;
    } catch {
      return null; // e.g. an IPv6 address in an IPv4-only database
    }
  }

  private asnFromMmdb(r: Reader<Response>, texts: string[]): Map<string, AsnAnswer> {
    const out = new Map<string, AsnAnswer>();
    for (const t of texts) {
      const a = asnOf(this.safeGet(r, t));
      if (a) out.set(t, a);
    }
    return out;
  }

  private asnFromCsv(files: { v4: string; v6: string }, uniq: Map<string, ArrayLike<number>>): Map<string, AsnAnswer> {
    const v4: Array<[number, string]> = [];
    const v6: Array<[ArrayLike<number>, string]> = [];
    for (const [text, w] of uniq) {
      if (isV4(w)) v4.push([w[3]! >>> 0, text]);
      else v6.push([w, text]);
    }
    const out = new Map<string, AsnAnswer>();
    if (v4.length) {
      v4.sort((a, b) => a[0] - b[0]);
      const queries = v4.map(([n]) => n);
      const answers = lookupIndexed(files.v4, 4, queries) ?? lookupV4(files.v4, queries); // the build's index, else a scan
      v4.forEach(([, text], i) => answers[i] && out.set(text, answers[i]!));
    }
    if (v6.length) {
      v6.sort((a, b) => compareAddress(a[0], 0, b[0], 0));
      const queries = v6.map(([w]) => w);
      const answers = lookupIndexed(files.v6, 6, queries) ?? lookupV6(files.v6, queries);
      v6.forEach(([, text], i) => answers[i] && out.set(text, answers[i]!));
    }
    return out;
  }
}
