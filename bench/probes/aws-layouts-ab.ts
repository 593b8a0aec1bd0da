/**
 * Two builds' AWS text readers (and sinks) in one process, alternated (A B B A …) over the
 * same bytes, per layout of a bucket written by bench/gen-bucket.ts: ns of CPU a line of
 * each, B/A, and whether both made the same records, counters and batch columns (a digest).
 *
 *   node dist/bench/probes/aws-layouts-ab.js DIST_A DIST_B BUCKET_DIR [--rounds 8] [--mb 32] [--layout v5-appended]
 *
 * DIST_A outside the repository needs node_modules beside it (a symlink will do).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { HEADERS, LAYOUTS, flowLogs, gzipFilesUnder, type Layout } from '../gen-bucket.js';
import { numArg as arg } from '../args.js';

interface Build {
  parse(buf: Uint8Array): { lines: number; digest: string };
}

async function load(dist: string): Promise<Build> {
  const root = resolve(dist, 'src');
  const { FlowSink } = await import(join(root, 'flow/sink.js'));
  const { readerFor } = await import(join(root, 'formats/registry.js'));
  const { readLineBytes } = await import(join(root, 'input/read.js'));
  const reader = readerFor('aws-text');
  return {
    parse(buf) {
      const h = createHash('sha1');
      const flush = (shard: number, b: any) => {
        h.update(`${shard}:${b.n}:${b.strings.join(',')}`);
        for (const k of ['feed', 'src', 'dst', 'proto', 'sport', 'dport', 'tcpFlags', 'packets', 'bytes', 'start', 'end', 'action', 'direction', 'account', 'region', 'iface', 'instance']) {
          const col = b[k];
          const per = col.length / b.feed.length;
          h.update(new Uint8Array(col.buffer, col.byteOffset, b.n * per * col.BYTES_PER_ELEMENT));
        }
      };
      const sink = new FlowSink({ shards: 2, batchSize: 16384, maxRejectsKept: 100 }, flush);
      const lines = readLineBytes(buf, reader.open({ sink, file: 'bench', account: '', region: '' }), 1 << 20, 0);
      sink.flushAll();
      h.update(JSON.stringify(sink.counters) + JSON.stringify(sink.rejects));
      return { lines, digest: h.digest('hex') };
    },
  };
}

function layoutText(dir: string, layout: Layout, max: number): Buffer {
  const parts: Buffer[] = layout === 'v2-plain' ? [] : [Buffer.from(HEADERS[layout] + '\n')];
  let n = 0;
  for (const l of flowLogs(arg('logs', 10)).filter((x) => x.layout === layout)) {
    for (const f of gzipFilesUnder(join(dir, l.dir))) {
      let text = gunzipSync(readFileSync(f));
      if (layout !== 'v2-plain') text = text.subarray(text.indexOf(10) + 1);
      parts.push(text);
      n += text.length;
      if (n >= max) return Buffer.concat(parts);
    }
  }
  return Buffer.concat(parts);
}

const [distA, distB, dir] = process.argv.slice(2);
if (!distA || !distB || !dir) throw new Error('usage: aws-layouts-ab.js DIST_A DIST_B BUCKET_DIR [--rounds R] [--mb M]');
const builds = [await load(distA), await load(distB)];
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)]!;
const rows: string[] = [];
const only = process.argv.indexOf('--layout');
for (const layout of only > 0 ? [process.argv[only + 1] as Layout] : LAYOUTS) {
  const data = layoutText(dir, layout, arg('mb', 32) << 20);
  const ns: number[][] = [[], []];
  const digests = ['', ''];
  let lines = 0;
  for (let r = 0; r < arg('rounds', 8); r++) {
    for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const t0 = process.cpuUsage();
      const out = builds[k]!.parse(data);
      const u = process.cpuUsage(t0);
      ns[k]!.push(((u.user + u.system) * 1e3) / out.lines);
      digests[k] = out.digest;
      lines = out.lines;
    }
  }
  const a = median(ns[0]!);
  const b = median(ns[1]!);
  rows.push(`| ${layout} | ${lines} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(b / a).toFixed(2)} | ${digests[0] === digests[1] ? 'yes' : 'NO'} |`);
}
process.stdout.write('| layout | lines | A ns/line | B ns/line | B/A | same output |\n|---|---:|---:|---:|---:|---|\n' + rows.join('\n') + '\n');
