/**
 * Whole gzip objects inflate with libdeflate where the build made dist/native/inflate.node
 * (input/read.ts gunzipNative), else with the zlib handle (test/gunzip-reuse.test.ts).
 * libdeflate takes only a file it can check whole (one member and nothing after it, the
 * CRC-32 and the trailer's size right, no header CRC); every other file goes to zlib. So
 * each file must come out as gunzipSync makes it or be refused where gunzipSync refuses it,
 * with the module and with FLOWSIEVE_INFLATE=zlib, and a run's outputs must not differ.
 * A 'files' task inflates its next file on libuv's thread pool while it parses one
 * (inflateAhead): the same bytes, or nothing (the file is then read as any file).
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { scanner, v2Line, V2_HEADER } from './helpers/aws.js';
import { dropInflatedAhead, gunzipNative, gunzipZlib, inflateAhead, readWhole, smallGzip, takeInflatedAhead, wholeGzipInflater } from '../dist/src/input/read.js';

const dir = tempDir('flowsieve-gunzip-native-');
const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const READ = new URL('../dist/src/input/read.js', import.meta.url).href;
const NATIVE_MODULE = new URL('../dist/native/inflate.node', import.meta.url).pathname;
const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `2 123456789012 eni-${i} 10.0.0.${i % 250} 45.9.1.1 443 ${i} 6 1 40 1718000000 1718000060 ACCEPT OK\n`).join(''));

/** AWS v2 lines of many sources and ports (a PRNG's: they compress ~5 times, as real logs do), all from internal addresses to one. */
function noisyLog(n: number, seed: number): Buffer {
  let x = seed * 2654435761 + 1;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8);
  const lines = Array.from({ length: n }, () => `2 123456789012 eni-${next() % 9999} 10.${next() % 256}.${next() % 256}.${next() % 256} 10.0.0.1 ${next() % 65536} ${next() % 65536} 6 ${next() % 99} ${next() % 99999} 1718000000 1718000060 ACCEPT OK\n`);
  return Buffer.from(lines.join(''));
}

/** A gzip member with header fields (FLG bits) that Node's gzipSync never writes. */
function withHeader(body: Buffer, flags: { name?: string; extra?: Buffer; headerCrc?: 'right' | 'wrong' }): Buffer {
  const flg = (flags.extra ? 4 : 0) | (flags.name ? 8 : 0) | (flags.headerCrc ? 2 : 0);
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, 3])];
  if (flags.extra) parts.push(Buffer.from([flags.extra.length & 0xff, flags.extra.length >> 8]), flags.extra);
  if (flags.name) parts.push(Buffer.from(`${flags.name}\0`, 'latin1'));
  if (flags.headerCrc) {
    const crc = crc32(Buffer.concat(parts)) & 0xffff;
    parts.push(Buffer.from([crc & 0xff, crc >> 8 ^ (flags.headerCrc === 'wrong' ? 1 : 0)]));
  }
  return Buffer.concat([...parts, body.subarray(10)]); // gzipSync's header is the plain 10 bytes
}

/** `gz` with the trailer's size (ISIZE) or CRC-32 replaced. */
function withTrailer(gz: Buffer, field: 'size' | 'crc', value: (old: number) => number): Buffer {
  const out = Buffer.from(gz);
  const at = out.length - (field === 'size' ? 4 : 8);
  out.writeUInt32LE(value(out.readUInt32LE(at)) >>> 0, at);
  return out;
}

const small = gzipSync(text(3));
const large = gzipSync(text(8000)); // ~900 KB out
const damaged = Buffer.from(large);
damaged.fill(0xff, 2000, 2006);
const CASES: Record<string, Buffer> = {
  'one member': small,
  large,
  'name and extra fields': withHeader(small, { name: 'flows.log', extra: Buffer.from('AB\x02\x00xy') }),
  'header CRC right': withHeader(small, { headerCrc: 'right' }),
  'header CRC wrong': withHeader(small, { headerCrc: 'wrong' }),
  'size one more': withTrailer(small, 'size', (n) => n + 1),
  'size one less': withTrailer(small, 'size', (n) => n - 1),
  'size zero': withTrailer(small, 'size', () => 0),
  'size 4 GiB less one': withTrailer(small, 'size', () => 2 ** 32 - 1),
  // a size mod 2^32 is all a trailer holds: more than deflate can make of the input is not trusted
  'size impossible for the input': withTrailer(small, 'size', () => small.length * 2000),
  'CRC-32 wrong': withTrailer(small, 'crc', (n) => n ^ 1),
  damaged,
  truncated: large.subarray(0, large.length >> 1),
  'trailer cut': small.subarray(0, small.length - 1),
  'two members': Buffer.concat([gzipSync(text(2)), gzipSync(text(50))]),
  'two members of one size': Buffer.concat([gzipSync(text(2)), gzipSync(text(2))]), // the first member alone matches the trailer
  'trailing zeros': Buffer.concat([small, Buffer.alloc(16)]),
  'trailing bytes': Buffer.concat([small, Buffer.from('junk')]),
  'not gzip': text(3),
  'empty inside': gzipSync(''),
  empty: Buffer.alloc(0),
};
/** The files libdeflate must take itself (at a bound above their size); every other one goes to zlib. */
const NATIVE = ['one member', 'large', 'name and extra fields'];

/** gunzipSync's answer: the bytes' digest, or null where it throws. */
function reference(bytes: Buffer, maxOutput: number): string | null {
  try {
    return digest(gunzipSync(bytes, { maxOutputLength: maxOutput }));
  } catch {
    return null;
  }
}

function zlibOrNull(bytes: Buffer, maxOutput: number): Buffer | null {
  try {
    return gunzipZlib(bytes, maxOutput);
  } catch {
    return null;
  }
}

/** Bytes compared by digest: vitest's element by element comparison of a 900 KB buffer takes a second. */
const digest = (b: Buffer | null | undefined) => (b ? createHash('sha256').update(b).digest('hex') : null);

const paths = Object.fromEntries(Object.keys(CASES).map((name, k) => [name, join(dir, `${k}.gz`)]));
for (const [name, bytes] of Object.entries(CASES)) writeFileSync(paths[name]!, bytes);

describe('whole gzip files inflated by libdeflate', () => {
  it('the build made the module and the parse threads load it', () => {
    expect(wholeGzipInflater()).toBe(process.env.FLOWSIEVE_INFLATE === 'zlib' ? 'zlib' : 'libdeflate');
  });

  it('take the intact single-member files, and give what gunzipSync gives or leave the file to zlib', () => {
    const taken: string[] = [];
    for (const [name, bytes] of Object.entries(CASES)) {
      for (const maxOutput of [1 << 24, 1000]) {
        const want = reference(bytes, maxOutput);
        const got = gunzipNative(bytes, maxOutput);
        if (got) expect(digest(got), `${name} at most ${maxOutput} bytes`).toBe(want);
        if (got && maxOutput === 1 << 24) taken.push(name);
        // and the reader, which falls back to zlib, always answers as gunzipSync does, as does zlib alone
        expect(digest(smallGzip(paths[name]!, maxOutput, -1)?.text), `${name} read whole`).toBe(want);
        expect(digest(zlibOrNull(bytes, maxOutput)), `${name} by zlib alone`).toBe(want);
      }
    }
    if (wholeGzipInflater() === 'libdeflate') expect(taken.sort()).toEqual([...NATIVE].sort());
    // at a bound below its size the file is left to zlib, whose error the streaming reader reports
    expect(gunzipNative(large, 1000)).toBeNull();
  });

  it('random damage: libdeflate gives what gunzipSync gives, or leaves the file to zlib', () => {
    let x = 12345;
    const next = () => (x = (x * 1103515245 + 12345) >>> 0);
    const intact = gzipSync(noisyLog(300, 3));
    let taken = 0;
    for (let round = 0; round < 400; round++) {
      const bytes = Buffer.from(intact);
      if (round % 8 === 0) bytes[4 + (next() % 6)] = next() & 0xff; // the header's time, XFL or OS, which nothing checks
      else for (let k = 1 + (next() % 3); k > 0; k--) bytes[next() % bytes.length] = next() & 0xff; // a few bytes replaced, anywhere
      const got = gunzipNative(bytes, 1 << 24);
      if (got) {
        taken++;
        expect(digest(got), `round ${round}`).toBe(reference(bytes, 1 << 24));
      }
    }
    // a file whose only damage is where nothing checks still inflates: some are taken
    if (wholeGzipInflater() === 'libdeflate') expect(taken).toBeGreaterThan(0);
  });

  it('a gzip document (JSON) read whole is what gunzipSync gives, or refused where it refuses', async () => {
    for (const [name, bytes] of Object.entries(CASES)) {
      for (const maxBytes of [1 << 24, 1000]) {
        const want = reference(bytes, maxBytes);
        const got = await readWhole(paths[name]!, true, maxBytes).then(digest, () => null);
        // where gunzipSync gives bytes, so does the reader; the rest (errors) must be zlib's stream's: next test
        if (want !== null) expect(got, `${name} at most ${maxBytes} bytes`).toBe(want);
      }
    }
  });

  it('FLOWSIEVE_INFLATE=zlib reads every file with zlib, with the same answers and errors', async () => {
    const script = `
      import { readWhole, smallGzip, wholeGzipInflater } from ${JSON.stringify(READ)};
      import { createHash } from 'node:crypto';
      const paths = ${JSON.stringify(paths)};
      const out = { inflater: wholeGzipInflater() };
      const digest = (b) => createHash('sha256').update(b).digest('hex');
      const document = (path, max) => readWhole(path, true, max).then(digest, (e) => 'error: ' + e.message);
      for (const [name, path] of Object.entries(paths)) {
        const small = smallGzip(path, 1 << 24, -1);
        out[name] = small ? digest(small.text) : null;
        out[name + ' (document)'] = await document(path, 1 << 24);
        out[name + ' (document, 1000 bytes)'] = await document(path, 1000);
      }
      console.log(JSON.stringify(out));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, FLOWSIEVE_INFLATE: 'zlib' }, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const viaZlib = JSON.parse(run.stdout) as Record<string, string | null>;
    expect(viaZlib.inflater).toBe('zlib');
    const document = (path: string, max: number) => readWhole(path, true, max).then(digest, (e: Error) => `error: ${e.message}`);
    for (const name of Object.keys(CASES)) {
      expect(viaZlib[name], name).toBe(digest(smallGzip(paths[name]!, 1 << 24, -1)?.text));
      expect(viaZlib[`${name} (document)`], `${name} as a document`).toBe(await document(paths[name]!, 1 << 24));
      expect(viaZlib[`${name} (document, 1000 bytes)`], `${name} as a document of at most 1000 bytes`).toBe(await document(paths[name]!, 1000));
    }
  });

  it('at most `limit` files of the process inflate on the pool at once; past that nothing starts', async () => {
    // before the test below, which leaves inflates on the pool that it drops untaken (they count until they end)
    if (wholeGzipInflater() !== 'libdeflate') return; // no module: nothing inflates ahead (the first test says why)
    const native = createRequire(import.meta.url)(NATIVE_MODULE) as {
      gunzipAsync(gz: Uint8Array, out: Uint8Array, limit: number, done: (r: number) => void): boolean;
    };
    const results: Promise<number>[] = [];
    const started: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      let finish!: (r: number) => void;
      results.push(new Promise((resolve) => (finish = resolve)));
      started.push(native.gunzipAsync(large, Buffer.alloc(gunzipSync(large).length), 3, finish));
    }
    expect(started).toEqual([true, true, true, false, false]); // their callbacks cannot run before this thread's turn ends
    expect(await Promise.all(results.slice(0, 3))).toEqual([large.length, large.length, large.length]);
    expect(native.gunzipAsync(large, Buffer.alloc(gunzipSync(large).length), 3, () => {}), 'room again once they are done').toBe(true);
  });

  it('a file inflated ahead on the thread pool is the file, or nothing to take', async () => {
    const big = gzipSync(noisyLog(3000, 7)); // > 32 KiB compressed: worth inflating ahead
    expect(big.length).toBeGreaterThan(32 << 10);
    const files: Record<string, Buffer> = {
      big,
      'big, CRC-32 wrong': withTrailer(big, 'crc', (n) => n ^ 1),
      'big, two members': Buffer.concat([big, gzipSync('x')]),
      'big, truncated': big.subarray(0, big.length - 100),
      small,
    };
    const native = wholeGzipInflater() === 'libdeflate';
    for (const [name, bytes] of Object.entries(files)) {
      const path = join(dir, `ahead-${name}.gz`);
      writeFileSync(path, bytes);
      inflateAhead(path, 1 << 28, bytes.length);
      const early = takeInflatedAhead(path, 1 << 28);
      expect(takeInflatedAhead(path, 1 << 28), `${name}: taken once`).toBeUndefined();
      const got = early && (await early);
      if (got) expect(digest(got.text), name).toBe(reference(bytes, 1 << 28));
      // inflated ahead: the intact big file alone (a damaged one comes back as nothing, or is not started)
      expect(!!got, name).toBe(native && name === 'big');
    }
    // read on the pool as well: a file gone by then, or inflating past the bound, comes back as nothing
    const gone = join(dir, 'ahead-gone.gz');
    inflateAhead(gone, 1 << 28, big.length);
    expect(await takeInflatedAhead(gone, 1 << 28), 'a file not there').toBeFalsy();
    // read on the pool at the size it was planned with: a file that grew or shrank since comes back as nothing
    const changed = join(dir, 'ahead-changed.gz');
    const other = gzipSync(noisyLog(3500, 8));
    for (const [what, bytes] of [['grew', Buffer.concat([big, Buffer.from('more')])], ['shrank', big.subarray(0, big.length - 4)], ['another file', other]] as const) {
      writeFileSync(changed, bytes);
      inflateAhead(changed, 1 << 28, big.length);
      const got = await takeInflatedAhead(changed, 1 << 28);
      expect(!got || digest(got.text) === reference(bytes, 1 << 28), `${what}: nothing, or the file as it is`).toBe(true);
      if (what !== 'another file') expect(!!got, `${what}: libdeflate takes a single member whole, no more, no less`).toBe(false);
    }
    const path = join(dir, 'ahead-big.gz');
    inflateAhead(path, 1000, big.length);
    expect(await takeInflatedAhead(path, 1000), 'past the bound').toBeFalsy();
    inflateAhead(path, 1 << 28, big.length);
    expect(takeInflatedAhead(path, 1000), 'another bound: not the same read').toBeUndefined();
    inflateAhead(path, 1 << 28, big.length);
    dropInflatedAhead();
    expect(takeInflatedAhead(path, 1 << 28), 'dropped at the end of a task').toBeUndefined();
  });

  it('a run over gzip objects writes the same outputs with libdeflate and with zlib', () => {
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const T0 = 1718000000;
    for (let f = 0; f < 6; f++) {
      const flows = [...scanner(`45.9.${f}.1`, 40 + f, { start: T0 + f * 300, dport: 22 }), ...scanner('45.9.99.1', 15, { start: T0 + f * 300, dport: 3389 })];
      const lines = [...(f % 2 ? [] : [V2_HEADER]), ...flows.map(v2Line)].join('\n') + '\n';
      // every other file large enough to be inflated ahead while the one before it is parsed
      writeFileSync(join(logs, `f${f}.log.gz`), gzipSync(f % 2 ? lines : Buffer.concat([Buffer.from(lines), noisyLog(2500, f)])));
    }
    writeFileSync(join(logs, 'two-members.log.gz'), Buffer.concat([gzipSync(`${V2_HEADER}\n`), gzipSync(scanner('45.9.50.1', 30, { start: T0, dport: 445 }).map(v2Line).join('\n') + '\n')]));
    writeFileSync(join(logs, 'damaged.log.gz'), withTrailer(gzipSync(scanner('45.9.51.1', 30, { start: T0, dport: 23 }).map(v2Line).join('\n') + '\n'), 'crc', (n) => n ^ 1));
    const outputs = (inflate: string | undefined, pipeline: string) => {
      const out = join(dir, `out-${inflate ?? 'default'}-${pipeline}`);
      const env = { ...process.env, FLOWSIEVE_INFLATE: inflate };
      const run = spawnSync(process.execPath, [CLI, 'detect', logs, '--out', out, '--quiet', '--no-enrich', '--pipeline', pipeline], { env, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(2); // the damaged file makes the run partial
      expect(run.stderr, 'no warning (an fd closed behind Node\'s back made openSync warn)').not.toMatch(/Warning/);
      return Object.fromEntries(readdirSync(out).filter((f) => f.endsWith('.ndjson')).map((f) => [f, readFileSync(join(out, f), 'utf8')]));
    };
    const zlib = outputs('zlib', 'sharded');
    expect(zlib['scans.ndjson']!.split('\n').length).toBeGreaterThan(6);
    expect(zlib['files.ndjson']).toContain('damaged.log.gz');
    for (const pipeline of ['sharded', 'fused']) expect(outputs(undefined, pipeline), pipeline).toEqual(zlib);
  });
});
