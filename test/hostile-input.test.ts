/**
 * Hostile input through the whole reading path (plan -> parse workers -> results), and
 * the CLI's exit code. Every case must give a message naming the file and the line (or
 * byte offset) and the reason, be counted in the file's report, let the rest of the run
 * complete, and keep detection.md §6's accounting exact: per file,
 *   lines = records + nodata + rejected + duplicates + blank + headers + trailers.
 * Limits are small here (--max-line-bytes 64 KiB, --max-decompressed-bytes 1 MiB) so that
 * each case stays fast; the code paths are the ones a 100 MB line or a 10 GB bomb takes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { detect } from '../dist/src/engine/run.js';
import { stdinChunks } from '../dist/src/input/streams.js';
import { accountingGap } from '../dist/src/flow/sink.js';

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const T0 = 1718000000;
/** A valid AWS v2 record: scanner 45.0.x.y probing 10.0.0.z:22. */
const aws = (i: number, over: Partial<Record<'src' | 'dst' | 'sport' | 'dport' | 'start' | 'iface', string | number>> = {}) =>
  `2 123456789012 ${over.iface ?? 'eni-0a1b2c3d'} ${over.src ?? `45.0.${(i >> 8) & 255}.${i & 255}`} ${over.dst ?? `10.0.0.${i % 250}`} ` +
  `${over.sport ?? 40000 + (i % 20000)} ${over.dport ?? 22} 6 1 40 ${over.start ?? T0 + i} ${T0 + i + 5} REJECT OK`;
const awsFile = (n: number, from = 0) => [HEADER, ...Array.from({ length: n }, (_, i) => aws(from + i))].join('\n') + '\n';

/** A deterministic byte generator (xorshift), for garbage that is the same on every run. */
function noise(n: number, seed = 12345): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}

const dir = tempDir('flowsieve-hostile-');
const P = (name: string) => join(dir, name);
const WEIRD = "we ird $(touch pwned) ;&|<>'\"`!*?.log";

beforeAll(() => {
  // truncated gzip: a 3000-line file cut at 60 % of its compressed bytes
  const full = gzipSync(Buffer.from(awsFile(3000)));
  writeFileSync(P('truncated.log.gz'), full.subarray(0, Math.floor(full.length * 0.6)));
  // gzip bomb: ~24 MB of repeated lines in a few KB; its first 64 KiB inflate past 4 MiB
  const line = aws(1) + '\n';
  writeFileSync(P('bomb.log.gz'), gzipSync(Buffer.from(HEADER + '\n' + line.repeat(Math.ceil(24e6 / line.length))), { level: 9 }));
  writeFileSync(P('empty.log'), '');
  writeFileSync(P('garbage.bin'), noise(65536));
  // a 3 MB line (no newline inside) between good lines; with 1 MiB chunks it spans chunk boundaries
  writeFileSync(P('longline.log'), awsFile(5) + 'x'.repeat(3_000_000) + '\n' + awsFile(5, 100).slice(HEADER.length + 1));
  // invalid UTF-8: in an address (rejected) and in an opaque interface id (kept)
  const bad = Buffer.from([0xff, 0xfe, 0xc3, 0x28]);
  const l3 = Buffer.from(aws(3, { src: '@@' }) + '\n');
  const at = l3.indexOf('@@');
  const l4 = Buffer.from(aws(4, { iface: 'eni-@@' }) + '\n');
  const at4 = l4.indexOf('@@');
  writeFileSync(P('utf8.log'), Buffer.concat([
    Buffer.from(HEADER + '\n' + aws(1) + '\n'),
    l3.subarray(0, at), bad, l3.subarray(at + 2),
    l4.subarray(0, at4), bad, l4.subarray(at4 + 2),
  ]));
  // out-of-range values and a timestamp in milliseconds
  writeFileSync(P('ranges.log'), [
    HEADER, aws(1), aws(2, { dport: 70000 }), aws(3, { src: '300.1.2.3' }), aws(4, { start: (T0 + 4) * 1000 }), aws(5, { dst: '10.0.0.1.1' }), aws(6),
  ].join('\n') + '\n');
  // AWS text, then goflow2 JSON lines, then generic JSON
  const gf = '{"type":"IPFIX","time_received_ns":1718000000000000000,"src_addr":"45.1.1.1","dst_addr":"10.0.0.1","proto":"TCP","src_port":1,"dst_port":22}';
  writeFileSync(P('mixed.log'), awsFile(4) + `${gf}\n${gf}\n{"some":"json"}\n`);
  writeFileSync(P(WEIRD), awsFile(3));
  // a directory with entries that cannot be read
  const tree = P('tree');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'good.log'), awsFile(2));
  writeFileSync(join(tree, 'sub', 'inner.log'), awsFile(2));
  symlinkSync(join(tree, 'nowhere'), join(tree, 'dangling.log'));
  symlinkSync('.', join(tree, 'sub', 'loop'));
  symlinkSync(join(tree, 'good.log'), join(tree, 'link.log'));
  execFileSync('mkfifo', [join(tree, 'fifo')]);
  mkdirSync(join(tree, 'locked'));
  writeFileSync(join(tree, 'locked', 'secret.log'), awsFile(1));
  chmodSync(join(tree, 'locked'), 0o000); // unreadable unless the tests run as root
});

describe('hostile input through detect()', () => {
  let r: any;
  const file = (name: string) => {
    const f = r.files.find((x: any) => x.path === name || x.path === P(name));
    expect(f, name).toBeDefined();
    return f;
  };
  const rejectsOf = (name: string) => r.rejects.filter((x: any) => x.file === P(name) || x.file === name);

  beforeAll(async () => {
    r = await detect(detectOpts(
      [
        P('truncated.log.gz'), P('bomb.log.gz'), P('empty.log'), P('garbage.bin'), P('longline.log'), P('utf8.log'),
        P('ranges.log'), P('mixed.log'), P(WEIRD), P('no such file.log'), P('tree'),
      ],
      { maxLineBytes: 65536, maxDecompressedBytes: 1 << 20, chunkBytes: 1 << 20 },
    ));
  }, 60_000);

  it('completes, reports the run as partial, and accounts for every line of every file', () => {
    expect(r.partial).toBe(true);
    for (const f of r.files) expect(accountingGap(f.counters), f.path).toBe(0);
    expect(accountingGap(r.totals)).toBe(0);
  });

  it('truncated gzip: the lines before the cut are read, the file is named with the reason', () => {
    const f = file('truncated.log.gz');
    expect(f.error).toMatch(/gzip: unexpected end of file: the file is truncated \(stopped after \d+ decompressed bytes, in line \d+\)/);
    expect(f.counters.records).toBeGreaterThan(100);
    expect(f.counters.records).toBeLessThan(3000);
    const cut = rejectsOf('truncated.log.gz');
    expect(cut).toHaveLength(1);
    expect(cut[0]).toMatchObject({ line: f.counters.lines, reason: 'input ends inside this line (truncated file)' });
  });

  it('gzip bomb: sniffed (not "damaged"), inflated only up to --max-decompressed-bytes, reported', () => {
    const f = file('bomb.log.gz');
    expect(f.format).toBe('aws-text');
    expect(f.decompressedBytes).toBe(1 << 20);
    expect(f.error).toMatch(/decompressed size exceeds --max-decompressed-bytes 1048576 \(a gzip bomb\?\): stopped after 1048576 decompressed bytes/);
    expect(f.counters.records).toBe(f.counters.lines - 2); // the header, and the line cut at the limit
  });

  it('empty file, binary garbage, missing file: named with the reason', () => {
    expect(file('empty.log').error).toBe('empty file');
    expect(file('garbage.bin').error).toMatch(/^unrecognised format: binary data/);
    expect(file(P('no such file.log')).error).toMatch(/^cannot read: ENOENT \(no such file or directory\)/);
  });

  it('a line over --max-line-bytes is skipped and rejected, in bounded memory; the rest is read', () => {
    const f = file('longline.log');
    expect(f.error).toBeUndefined();
    expect(f.counters).toMatchObject({ lines: 12, records: 10, headers: 1, rejected: 1 });
    expect(rejectsOf('longline.log')).toEqual([
      expect.objectContaining({ line: 7, offset: awsFile(5).length, reason: 'line too long' }),
    ]);
  });

  it('invalid UTF-8: in an address the line is rejected, in an opaque id it is kept', () => {
    const f = file('utf8.log');
    expect(f.counters).toMatchObject({ lines: 4, records: 2, rejected: 1 });
    expect(rejectsOf('utf8.log')).toEqual([expect.objectContaining({ line: 3, reason: 'bad srcaddr' })]);
  });

  it('out-of-range port, bad addresses, a timestamp in milliseconds: rejected with line and reason', () => {
    const f = file('ranges.log');
    expect(f.counters).toMatchObject({ records: 2, rejected: 4 });
    expect(rejectsOf('ranges.log').map((x: any) => [x.line, x.reason])).toEqual([
      [3, 'port out of range 0..65535'],
      [4, 'bad srcaddr'],
      [5, 'timestamp out of range (expected Unix seconds)'],
      [6, 'bad dstaddr'],
    ]);
  });

  it('a file that changes format half-way: the other lines rejected, the change named, the file partial', () => {
    const f = file('mixed.log');
    expect(f.counters).toMatchObject({ records: 4, rejected: 3 });
    expect(f.error).toMatch(/the content changes format: from this point lines look like goflow2, not aws-text/);
    expect(f.error).toContain(`(at byte ${awsFile(4).length})`);
    const rj = rejectsOf('mixed.log');
    expect(rj.map((x: any) => x.line)).toEqual([6, 7, 8]);
    expect(rj[0].reason).toMatch(/looks like goflow2: the file changes format here/);
  });

  it('a file name with spaces and shell characters is read as any other', () => {
    const f = file(WEIRD);
    expect(f.error).toBeUndefined();
    expect(f.counters.records).toBe(3);
  });

  it('a directory: readable entries read, the others listed with the reason', () => {
    const tree = P('tree');
    const entries = r.files.filter((f: any) => f.path.startsWith(tree));
    const byName = Object.fromEntries(entries.map((f: any) => [f.path.slice(tree.length + 1), f]));
    expect(byName['good.log'].counters.records).toBe(2);
    expect(byName['link.log'].counters.records).toBe(2);
    expect(byName['sub/inner.log'].counters.records).toBe(2);
    expect(byName['dangling.log'].error).toMatch(/^cannot read: ENOENT .*\(symbolic link\)/);
    expect(byName['sub/loop'].error).toMatch(/symbolic link back to a directory already being read/);
    expect(byName['fifo'].error).toMatch(/^not a regular file/);
    if (process.getuid?.() === 0) {
      console.warn('hostile-input: running as root, so the chmod 000 directory is readable: that case is not checked');
    } else {
      expect(byName['locked'].error).toMatch(/^cannot list directory: EACCES/);
    }
  });
});

describe('hostile input: stdin and the CLI', () => {
  it('stdin: a line longer than the limit is dropped as it arrives, offsets stay right', async () => {
    const head = awsFile(3);
    const tail = awsFile(3, 50).slice(HEADER.length + 1);
    async function* pieces() {
      yield new Uint8Array(Buffer.from(head));
      for (let i = 0; i < 40; i++) yield new Uint8Array(65536).fill(120); // 2.6 MB without a newline
      yield new Uint8Array(Buffer.from('yyy\n' + tail));
    }
    const res: any = await detect(detectOpts(['-'], { stdin: pieces, maxLineBytes: 65536, chunkBytes: 1 << 18 }));
    const f = res.files[0];
    expect(f.counters).toMatchObject({ lines: 8, records: 6, headers: 1, rejected: 1 });
    expect(res.rejects).toEqual([expect.objectContaining({ file: '<stdin>', line: 5, offset: head.length, reason: 'line too long' })]);
    expect(accountingGap(f.counters)).toBe(0);
  });

  it('stdin: a long line is never held whole (chunks stay within chunk size + line limit)', async () => {
    async function* pieces() {
      yield new Uint8Array(Buffer.from('a\n'));
      for (let i = 0; i < 200; i++) yield new Uint8Array(65536).fill(120); // 13 MB without a newline
      yield new Uint8Array(Buffer.from('\nb\nc'));
    }
    const chunks: Array<{ bytes: Uint8Array; offset: number }> = [];
    for await (const c of stdinChunks({ stdin: pieces, maxLineBytes: 65536, chunkBytes: 1 << 18 })) chunks.push(c);
    for (const c of chunks) expect(c.bytes.length).toBeLessThanOrEqual((1 << 18) + 65536 + 2);
    // the text around the long line survives, at its input offsets
    expect(chunks.map((c) => [c.offset, Buffer.from(c.bytes).toString('latin1').replace(/x+/, (m) => `x*${m.length}`)])).toEqual([
      [0, `a\nx*${65537}\n`],
      [2 + 200 * 65536 + 1, 'b\nc'],
    ]);
  });

  it('exit code 2 when a file could not be read, with summary.json naming it; 0 when only lines were rejected', () => {
    const out = join(dir, 'out');
    const partial = spawnSync(process.execPath, [CLI, 'detect', P(WEIRD), P('no such file.log'), '--out', out, '--workers', '1'], { encoding: 'utf8' });
    expect(partial.status).toBe(2);
    expect(partial.stderr).toContain(`could not read ${P('no such file.log')}: cannot read: ENOENT`);
    expect(partial.stderr).toContain('PARTIAL');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.partial).toBe(true);
    expect(summary.totals).toMatchObject({ files: 2, files_failed: 1, records: 3, headers: 1, blank: 0, trailers: 0 });
    const files = readFileSync(join(out, 'files.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(files[1]).toMatchObject({ path: P('no such file.log'), error: expect.stringMatching(/ENOENT/) });

    const ok = spawnSync(process.execPath, [CLI, 'detect', P('ranges.log'), '--out', out, '--workers', '1', '--quiet'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    const s2 = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s2).toMatchObject({ partial: false, totals: { records: 2, rejected: 4 } });
    const rejects = readFileSync(join(out, 'rejects.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rejects[0]).toMatchObject({ file: P('ranges.log'), line: 3, reason: 'port out of range 0..65535' });
  });

  it('an unknown --cloud is a usage error (exit 1), not a failure in every worker', () => {
    const bad = spawnSync(process.execPath, [CLI, 'detect', P(WEIRD), '--out', join(dir, 'o2'), '--cloud', 'mars'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--cloud must be one of aws, azure, gcp, other, got 'mars'/);
  });
});
