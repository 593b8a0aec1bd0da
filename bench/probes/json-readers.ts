/**
 * The Azure and GCP readers alone, two builds in one process, alternated (A B, B A, …)
 * over the same bytes of a generated estate (`flowsieve generate --clouds azure,gcp`, as
 * bench/json-blobs.ts writes it): CPU ns a byte of JSON, the ratio B/A, and whether both
 * builds emit the same records (a digest of every batch column), counters and rejects.
 * No threads, no start-up, no accumulation: what a change to a reader buys.
 *
 *   node dist/bench/probes/json-readers.js DIST_A DIST_B [--estate bench/data/json-10-1] [--rounds 7] [--gcp-files 6]
 *
 * e.g. `cp -r dist /tmp/before` (with node_modules beside it), change and build, then
 * `node dist/bench/probes/json-readers.js /tmp/before/dist dist --estate /tmp/json-data/json-10-1`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { opt } from '../args.js';

const [distA, distB] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!distA || !distB) throw new Error('usage: json-readers.js DIST_A DIST_B [--estate DIR] [--rounds N] [--gcp-files N]');
const estate = opt('estate', 'bench/data/json-10-1');
const rounds = Number(opt('rounds', '7'));
const gcpFiles = Number(opt('gcp-files', '6'));

const walk = (d: string): string[] =>
  readdirSync(d, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]))
    .sort();
const regionMap = JSON.parse(readFileSync(`${estate}-meta/region-map.json`, 'utf8')) as Record<string, string>;
const inputs: Array<[string, Buffer[]]> = [
  ['gcp', walk(join(estate, 'gcp')).slice(0, gcpFiles).map((f) => readFileSync(f))],
  ['azure-nsg', walk(join(estate, 'azure')).map((f) => readFileSync(f))],
];

const COLUMNS = ['feed', 'src', 'dst', 'proto', 'sport', 'dport', 'packets', 'bytes', 'start', 'end', 'account', 'region', 'iface', 'instance', 'direction', 'action', 'cloud'];

type Read = (format: string, bufs: Buffer[]) => string;

async function load(dist: string): Promise<Read> {
  const root = resolve(dist, 'src');
  const { FlowSink } = await import(join(root, 'flow/sink.js'));
  const { readerFor } = await import(join(root, 'formats/registry.js'));
  const { readLineBytes } = await import(join(root, 'input/read.js'));
  return (format, bufs) => {
    const h = createHash('sha1');
    const sink = new FlowSink({ shards: 2, batchSize: 16384, maxRejectsKept: 100 }, (_shard: number, b: Record<string, ArrayLike<number>> & { n: number; strings: string[] }) => {
      for (const k of COLUMNS) {
        const a = b[k] as unknown as Uint8Array;
        h.update(new Uint8Array(a.buffer, a.byteOffset, a.BYTES_PER_ELEMENT * (k === 'src' || k === 'dst' ? 4 : 1) * b.n));
      }
      h.update(b.strings.join('|'));
    });
    const reader = readerFor(format);
    for (const buf of bufs) {
      const ctx = { sink, file: 'bench', account: '', region: '', regionMap };
      if (reader.kind === 'lines') readLineBytes(buf, reader.open(ctx), 1 << 20, 0);
      else reader.parseDocument(buf, ctx);
    }
    sink.flushAll();
    return JSON.stringify(sink.counters) + JSON.stringify(sink.rejects) + h.digest('hex');
  };
}

const builds = [await load(distA), await load(distB)];
const med = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1]!;
for (const [format, bufs] of inputs) {
  const bytes = bufs.reduce((s, b) => s + b.length, 0);
  const ms: number[][] = [[], []];
  const out: string[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const i of r % 2 ? [1, 0] : [0, 1]) {
      const c0 = process.cpuUsage();
      out[i] = builds[i]!(format, bufs);
      const c = process.cpuUsage(c0);
      ms[i]!.push((c.user + c.system) / 1000);
    }
  }
  const [a, b] = [med(ms[0]!), med(ms[1]!)];
  const nsB = (t: number) => ((t * 1e6) / bytes).toFixed(2);
  console.log(
    `${format}: ${bufs.length} files, ${(bytes / 1e6).toFixed(1)} MB; A ${a.toFixed(0)} ms (${nsB(a)} ns/B), B ${b.toFixed(0)} ms (${nsB(b)} ns/B), ` +
      `B/A ${(b / a).toFixed(3)} (medians of ${rounds}, CPU); same records, counters and rejects: ${out[0] === out[1] ? 'yes' : 'NO'}`,
  );
}
