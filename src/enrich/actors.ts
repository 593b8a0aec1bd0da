/**
 * Known scanning services (Shodan, Censys, Shadowserver, ...): the `actor` label of a
 * scanner IP. From src/data/actors.json (every range, ASN and domain with the public
 * document it comes from) and from the user's lists (`--actors FILE`, repeatable):
 *
 * - plain text: one CIDR or address per line, optionally followed by the actor's name
 *   (`198.51.100.0/24 Example Scanner`); without a name the file's base name is used;
 *   `#` starts a comment;
 * - MISP warninglist JSON (`{"name": ..., "list": [CIDR, ...]}`): the list's name is the actor;
 * - a JSON file in the format of actors.json.
 *
 * An address gets the actor of the longest matching prefix (a user's list wins over the
 * built-in data at equal length), else the actor owning its ASN, else (with --rdns) the
 * actor whose domain ends its forward-confirmed reverse-DNS name.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseAddress } from '../net/address.js';
import { dataFile } from '../data/files.js';

export interface ActorMatch {
  actor: string;
  via: 'cidr' | 'asn' | 'rdns';
  source: string; // URL of the public document, or the user's file
}

interface ActorsDoc {
  actors: Array<{
    name: string;
    asns?: Array<{ asn: number; source: string }>;
    cidrs?: Array<{ source: string; list: string[] }>;
    rdns?: Array<{ suffix: string; source: string }>;
  }>;
}

interface Entry {
  actor: string;
  source: string;
}

/** A CIDR as four masked words and a prefix length over the 128-bit (IPv4-mapped) space. */
export function parseCidr(text: string): { words: Uint32Array; len: number } | null {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = parseAddress(slash < 0 ? t : t.slice(0, slash));
  if (!addr) return null;
  const v4 = !t.slice(0, slash < 0 ? undefined : slash).includes(':');
  const max = v4 ? 32 : 128;
  const len = slash < 0 ? max : Number(t.slice(slash + 1));
  if (!Number.isInteger(len) || len < 0 || len > max || (slash >= 0 && !/^\d{1,3}$/.test(t.slice(slash + 1)))) return null;
  const full = v4 ? 96 + len : len;
  return { words: mask(addr, full), len: full };
}

function mask(w: ArrayLike<number>, len: number): Uint32Array {
  const out = new Uint32Array(4);
  for (let k = 0; k < 4; k++) {
    const bits = Math.max(0, Math.min(32, len - 32 * k));
    const m = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    out[k] = (w[k]! & m) >>> 0;
  }
  return out;
}

const keyOf = (w: ArrayLike<number>, len: number) => `${len}/${w[0]},${w[1]},${w[2]},${w[3]}`;

export class ActorIndex {
  private readonly prefixes = new Map<string, Entry>();
  private lengths: number[] = [];
  private readonly asns = new Map<number, Entry>();
  private readonly domains: Array<{ suffix: string } & Entry> = [];
  readonly sources: string[] = [];
  readonly warnings: string[] = [];
  /** Counts of what was loaded, for the summary. */
  readonly counts = { actors: 0, cidrs: 0, asns: 0, domains: 0 };

  /** The built-in data (unless builtin is false), then each user file in order. */
  static load(userFiles: readonly string[] = [], builtin = true): ActorIndex {
    const idx = new ActorIndex();
    if (builtin) {
      const path = dataFile('actors.json');
      idx.addDoc(JSON.parse(readFileSync(path, 'utf8')) as ActorsDoc, 'src/data/actors.json');
      idx.sources.push('flowsieve src/data/actors.json');
    }
    for (const f of userFiles) idx.addFile(f);
    return idx;
  }

  addFile(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`--actors ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    this.sources.push(path);
    if (/^\s*[{[]/.test(text)) {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (err) {
        throw new Error(`--actors ${path}: not valid JSON (${(err as Error).message})`);
      }
      const d = doc as Partial<ActorsDoc> & { name?: string; list?: unknown[] };
      if (Array.isArray(d.actors)) return this.addDoc(d as ActorsDoc, path);
      if (Array.isArray(d.list)) return this.addMisp(d.name ?? basename(path, extname(path)), d.list, path);
      throw new Error(`--actors ${path}: JSON is neither a MISP warninglist ({name, list}) nor an actors file ({actors})`);
    }
    this.addPlain(text, path);
  }

  private addDoc(doc: ActorsDoc, file: string): void {
    for (const a of doc.actors ?? []) {
      this.counts.actors++;
      for (const group of a.cidrs ?? []) {
        for (const c of group.list) this.addCidr(c, { actor: a.name, source: group.source }, `${file}: ${a.name}`);
      }
      for (const x of a.asns ?? []) {
        this.asns.set(x.asn, { actor: a.name, source: x.source });
        this.counts.asns++;
      }
      for (const r of a.rdns ?? []) {
        this.domains.push({ suffix: r.suffix.toLowerCase().replace(/^\.+|\.+$/g, ''), actor: a.name, source: r.source });
        this.counts.domains++;
      }
    }
  }

  private addMisp(name: string, list: unknown[], file: string): void {
    this.counts.actors++;
    for (const item of list) {
      if (typeof item === 'string') this.addCidr(item, { actor: name, source: file }, file);
      else this.warnings.push(`${file}: skipped a list entry that is not a string`);
    }
  }

  private addPlain(text: string, file: string): void {
    const fallback = basename(file, extname(file));
    const names = new Set<string>();
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const m = /^(\S+?)(?:[\s,]+(.*))?$/.exec(line)!;
      const actor = m[2]?.trim() || fallback;
      names.add(actor);
      this.addCidr(m[1]!, { actor, source: file }, `${file}:${i + 1}`);
    });
    this.counts.actors += names.size;
  }

  private addCidr(text: string, e: Entry, where: string): void {
    const c = parseCidr(text);
    if (!c) {
      if (this.warnings.length < 100) this.warnings.push(`${where}: '${text}' is not a CIDR or an address; skipped`);
      return;
    }
    this.prefixes.set(keyOf(c.words, c.len), e); // a later list wins at the same prefix
    if (!this.lengths.includes(c.len)) this.lengths = [...this.lengths, c.len].sort((a, b) => b - a);
    this.counts.cidrs++;
  }

  /** The actor of an address (four words), its ASN and its confirmed reverse-DNS name. */
  match(words: ArrayLike<number>, asn: number | null, rdnsName: string | null = null): ActorMatch | null {
    for (const len of this.lengths) {
      const e = this.prefixes.get(keyOf(mask(words, len), len));
      if (e) return { actor: e.actor, via: 'cidr', source: e.source };
    }
    if (asn !== null) {
      const e = this.asns.get(asn);
      if (e) return { actor: e.actor, via: 'asn', source: e.source };
    }
    if (rdnsName) {
      const name = rdnsName.toLowerCase().replace(/\.$/, '');
      for (const d of this.domains) {
        if (name === d.suffix || name.endsWith(`.${d.suffix}`)) return { actor: d.actor, via: 'rdns', source: d.source };
      }
    }
    return null;
  }

  /** Whether any actor has reverse-DNS domains (otherwise --rdns cannot label anything). */
  get hasDomains(): boolean {
    return this.domains.length > 0;
  }
}
