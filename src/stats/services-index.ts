/**
 * A compact index of the service-name table (services.ts), written by `npm run build`
 * (scripts/services-index.ts) so that a run reads names without parsing 700 KB of JSON:
 *
 *   u32 header length, header (JSON: source line, source stamp, count), padding to 4,
 *   count u32 keys (protocol * 65536 + port, ascending), count + 1 u32 offsets into the
 *   text, text (UTF-8 "name\0description" a key).
 *
 * A lookup is a binary search and one short decode. The stamp names the source the index
 * was built from; an index that does not match the source installed now is not used.
 */
import { fileURLToPath } from 'node:url';

export interface Service {
  name: string; // IANA service name, e.g. "ssh", "microsoft-ds"
  description: string;
}

export interface ServiceTable {
  source: string;
  lookup(protocol: number, port: number): Service | null;
}

export const SERVICES_INDEX = fileURLToPath(new URL('../../data/services.idx', import.meta.url));

interface Header {
  source: string;
  stamp: string;
  count: number;
}

export function buildServicesIndex(source: string, stamp: string, map: ReadonlyMap<number, Service>): Buffer {
  const keys = [...map.keys()].sort((a, b) => a - b);
  const texts = keys.map((k) => Buffer.from(`${map.get(k)!.name}\0${map.get(k)!.description}`));
  const header = Buffer.from(JSON.stringify({ source, stamp, count: keys.length } satisfies Header));
  const at = align4(4 + header.length);
  const textAt = at + 4 * keys.length + 4 * (keys.length + 1);
  const out = Buffer.alloc(textAt + texts.reduce((s, t) => s + t.length, 0));
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  let off = 0;
  keys.forEach((k, i) => {
    out.writeUInt32LE(k, at + 4 * i);
    out.writeUInt32LE(off, at + 4 * keys.length + 4 * i);
    texts[i]!.copy(out, textAt + off);
    off += texts[i]!.length;
  });
  out.writeUInt32LE(off, at + 4 * keys.length + 4 * keys.length);
  return out;
}

/** The table an index holds, or null when it was built from another source than `stamp`. */
export function indexedServices(buf: Buffer, stamp: string): ServiceTable | null {
  const hlen = buf.readUInt32LE(0);
  const header = JSON.parse(buf.toString('utf8', 4, 4 + hlen)) as Header;
  if (header.stamp !== stamp) return null;
  const n = header.count;
  const at = align4(4 + hlen);
  const copy = new Uint32Array(2 * n + 1); // aligned copy: the file's buffer may not be
  copy.set(new Uint32Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + 4 * (2 * n + 1))));
  const keys = copy.subarray(0, n);
  const offs = copy.subarray(n);
  const textAt = at + 4 * (2 * n + 1);
  return {
    source: header.source,
    lookup(protocol: number, port: number): Service | null {
      const key = protocol * 65536 + port;
      let lo = 0;
      let hi = n - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (keys[mid]! < key) lo = mid + 1;
        else if (keys[mid]! > key) hi = mid - 1;
        else {
          const text = buf.toString('utf8', textAt + offs[mid]!, textAt + offs[mid + 1]!);
          const cut = text.indexOf('\0');
          return { name: text.slice(0, cut), description: text.slice(cut + 1) };
        }
      }
      return null;
    },
  };
}

const align4 = (n: number) => (n + 3) & ~3;
