/**
 * Plain JSON blobs read ahead on libuv's pool, a group at a time (src/input/blobs-ahead.ts, the
 * native module's readFilesAsync), and a folder's tree listed there before planning
 * (src/input/listing.ts startPrewalk, native treeWalkStart): what the thread takes is what it
 * would have read itself, and a blob or folder they cannot serve as planned is read as before.
 */
import { describe, expect, it } from 'vitest';
import { appendFileSync, closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { azureBlobs, canon, writeBlobs } from './helpers/json-blobs.js';
import { restoreEnvAfterEach } from './helpers/env.js';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { blobsAheadLanded, blobsAheadNow, dropBlobsAhead, headWordsOf, readBlobsAhead, takeBlobAhead } from '../dist/src/input/blobs-ahead.js';
import { nativeModule } from '../dist/src/input/native.js';
import { forgetListings, startPrewalk, takeListing, takeSize } from '../dist/src/input/listing.js';
import { planFromBytes, planInputs } from '../dist/src/input/plan.js';
import { smallInput } from '../dist/src/engine/small-input.js';
import { launchLoneShard } from '../dist/src/engine/lone-shard.js';

const native = nativeModule();
const posix = process.platform !== 'win32' && native?.readFilesAsync !== undefined;

describe.runIf(posix)('readFilesAsync: several files read on one pool thread', () => {
  it('answers each file its bytes, its room filled (it may go on), or -1 - errno', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), 'abc');
    writeFileSync(join(dir, 'b'), '0123456789');
    const into = Buffer.alloc(32, 0x2e);
    const spans = new Float64Array([0, 8, 8, 10, 18, 8]);
    await new Promise<void>((done) => native!.readFilesAsync!(`${join(dir, 'a')}\0${join(dir, 'b')}\0${join(dir, 'none')}\0`, into, spans, done));
    expect([...spans]).toEqual([0, 3, 8, 10, 18, -3]); // ENOENT is 2
    expect(into.toString('latin1', 0, 18)).toBe('abc.....0123456789');
    // a FIFO (put in a blob's place after planning): answered -1 at once, not opened to wait for a writer
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    try {
      const at = new Float64Array([0, 8, 8, 8]);
      await new Promise<void>((done) => native!.readFilesAsync!(`${fifo}\0${join(dir, 'a')}\0`, into, at, done));
      expect([...at]).toEqual([0, -1, 8, 3]);
    } finally {
      releaseFifo(fifo);
    }
    expect(() => native!.readFilesAsync!('a\0', into, new Float64Array([30, 8]), () => {})).toThrow(TypeError); // past `into`
    expect(() => native!.readFilesAsync!('a\0b\0', into, new Float64Array([0, 8]), () => {})).toThrow(TypeError); // two paths, one span
  });

  it('answers each file read the words its first 64 KiB hold (heads), as the sniffers would search them', async () => {
    const dir = tempDir();
    const texts: Record<string, string> = {
      plain: '{"records":[{"time":"t","category":"NetworkSecurityGroupFlowEvent"}]}',
      message: '{"message":"2 123 eni"}',
      escape: '{"x":"\\u0041"}',
      // "message" across the 64 KiB mark (not in the head), and ending right at it (in it)
      across: `${'g'.repeat(65536 - 3)}message`,
      within: `${'g'.repeat(65536 - 7)}message`,
      both: 'messag messages \\ \\u',
      short: 'mess',
      bare: 'gggg\\',
    };
    const names = Object.keys(texts);
    for (const n of names) writeFileSync(join(dir, n), texts[n]!);
    const into = Buffer.alloc((names.length + 1) * 70_000);
    const spans = new Float64Array(2 * (names.length + 1));
    for (let k = 0; k <= names.length; k++) [spans[2 * k], spans[2 * k + 1]] = [k * 70_000, 70_000];
    const heads = new Uint8Array(names.length + 1).fill(0xff);
    const paths = [...names, 'none'].map((n) => `${join(dir, n)}\0`).join('');
    await new Promise<void>((done) => native!.readFilesAsync!(paths, into, spans, done, heads));
    const words = (t: string) => {
      const head = Buffer.from(t).subarray(0, 65536);
      return (head.includes('message') ? 1 : 0) | (head.includes('\\u') ? 2 : 0); // formats/types.ts HeadWord
    };
    names.forEach((n, k) => expect(heads[k], n).toBe(words(texts[n]!)));
    expect(heads[names.length]).toBe(0xff); // not read: not written
    expect(() => native!.readFilesAsync!('a\0', into, new Float64Array([0, 8]), () => {}, new Float64Array(1) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => native!.readFilesAsync!('a\0b\0', into, new Float64Array([0, 8, 8, 8]), () => {}, new Uint8Array(1))).toThrow(TypeError); // a head short
  });
});

describe.runIf(posix && native?.readFileIn !== undefined)('readFileIn: a whole file read now, opened relative to its folder', () => {
  it('answers the bytes of a file read whole, or -1 where it did not read it whole (the caller reads it as before)', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a'), 'abc');
    writeFileSync(join(dir, 'b'), '0123456789');
    writeFileSync(join(dir, 'sub', 'c'), 'sub');
    writeFileSync(join(dir, 'empty'), '');
    const into = Buffer.alloc(16, 0x2e);
    expect(native!.readFileIn!(join(dir, 'a'), into)).toBe(3);
    expect(into.toString('latin1', 0, 4)).toBe('abc.');
    expect(native!.readFileIn!(join(dir, 'b'), into)).toBe(10); // the same folder, kept open
    expect(native!.readFileIn!(join(dir, 'sub', 'c'), into)).toBe(3); // another folder
    expect(native!.readFileIn!(join(dir, 'a'), into)).toBe(3); // and back
    expect(native!.readFileIn!(join(dir, 'b'), into.subarray(0, 10))).toBe(-1); // filled: it may go on
    expect(native!.readFileIn!(join(dir, 'b'), into.subarray(0, 11))).toBe(10);
    expect(native!.readFileIn!(join(dir, 'none'), into)).toBe(-1);
    expect(native!.readFileIn!(join(dir, 'gone', 'a'), into)).toBe(-1); // no such folder
    expect(native!.readFileIn!(join(dir, 'empty'), into)).toBe(-1);
    expect(native!.readFileIn!(join(dir, 'sub'), into)).toBe(-1); // a folder
    expect(native!.readFileIn!('a', into)).toBe(-1); // no folder named: read as before
    // the folder kept open renamed away and another made at its path: read from the old one until
    // readFileInDone (a task's end), from the new one after
    expect(native!.readFileIn!(join(dir, 'sub', 'c'), into)).toBe(3);
    renameSync(join(dir, 'sub'), join(dir, 'old'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'c'), 'new!');
    native!.readFileInDone!();
    expect(native!.readFileIn!(join(dir, 'sub', 'c'), into)).toBe(4);
    expect(into.toString('latin1', 0, 4)).toBe('new!');
    // the folder kept open removed: its file is not read here (-1), then the folder opened anew
    rmSync(join(dir, 'sub'), { recursive: true });
    expect(native!.readFileIn!(join(dir, 'sub', 'c'), into)).toBe(-1);
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'c'), 'again');
    native!.readFileInDone!();
    expect(native!.readFileIn!(join(dir, 'sub', 'c'), into)).toBe(5);
    // a path longer than the call's buffer: -1 (read as before, which names the error), never a cut path
    // (a file named as its cut would be, there to be read by mistake)
    let deep = dir;
    while (Buffer.byteLength(deep) < 3900) deep = join(deep, 'd'.repeat(100));
    mkdirSync(deep, { recursive: true });
    const long = join(deep, 'é'.repeat(127)); // past 4,096 bytes
    let cut = long;
    while (Buffer.byteLength(cut) > 4095) cut = cut.slice(0, -1);
    writeFileSync(cut, 'cut');
    expect(native!.readFileIn!(long, into)).toBe(-1);
    expect(native!.readFileIn!(cut, into)).toBe(3);
    // a FIFO (put in a file's place after planning): -1 at once, not opened to wait for a writer
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    try {
      expect(native!.readFileIn!(fifo, into)).toBe(-1);
    } finally {
      releaseFifo(fifo);
    }
    expect(() => native!.readFileIn!(join(dir, 'a'), new Float64Array(2) as unknown as Uint8Array)).toThrow(TypeError);
  });
});

/** A reader left waiting in open() on `fifo` let go (a native module that opens FIFOs blocking): a writer opened and closed. */
function releaseFifo(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: no reader waits
  }
}

describe.runIf(posix)('blobs read ahead (readBlobsAhead, takeBlobAhead)', () => {
  restoreEnvAfterEach('FLOWSIEVE_BLOBS_AHEAD');

  it('give each blob its bytes, and null where it grew, went missing or is past the bound', async () => {
    const dir = tempDir();
    const files = Array.from({ length: 40 }, (_, k) => {
      const path = join(dir, `b${k}.json`);
      writeFileSync(path, `{"records":[${'x'.repeat(k * 997)}]}`);
      return { path, size: readFileSync(path).length, wanted: k !== 5 };
    });
    appendFileSync(files[7]!.path, 'more'); // grew since it was planned
    rmSync(files[9]!.path); // gone
    const wanted = (f: { path: string }) => files.find((g) => g.path === f.path)!.wanted;
    const before = blobsAheadNow();
    for (let k = 0; k < files.length; k++) {
      readBlobsAhead(files, k + 1, 30_000, wanted);
      const early = takeBlobAhead(files[k]!.path);
      if (k === 0 || k === 5) expect(early, `blob ${k}`).toBeUndefined(); // its turn came first; not wanted
      if (early === undefined) continue;
      const got = await early;
      if (k === 7 || k === 9 || files[k]!.size > 30_000) expect(got, `blob ${k}`).toBeNull();
      else expect(got?.toString(), `blob ${k}`).toBe(readFileSync(files[k]!.path).toString());
    }
    const after = blobsAheadNow();
    expect(after.taken - before.taken).toBeGreaterThan(20);
    expect(after.files).toBe(0);
    dropBlobsAhead();
  });

  it("answers each blob taken its head's words (headWordsOf), and the plan they give is the one a search gives", async () => {
    const dir = tempDir();
    const azure = '{"records":[{"time":"t","category":"NetworkSecurityGroupFlowEvent","properties":{"Version":2,"flows":[]}}]}';
    const texts = [
      azure,
      azure.replace('"t"', '"message"'), // the word in an Azure blob: its first line decides
      azure.replace('"t"', '"\\u0074"'),
      '{"message":"2 123456789012 eni-1 1.2.3.4 10.0.0.1 443 1234 6 10 100 1709258449 1709258450 ACCEPT OK"}', // a CloudWatch line
      '{"messageType":"DATA_MESSAGE","logEvents":[]}',
      `${azure.slice(0, -2)},${'{"time":"t"},'.repeat(6000)}{"time":"message"}]}`, // the word past 64 KiB
      'this is no flow log',
    ];
    const files = texts.map((t, k) => {
      const path = join(dir, `w${k}.json`);
      writeFileSync(path, t);
      return { path, size: t.length };
    });
    readBlobsAhead(files, 0, 1 << 20, () => true);
    await blobsAheadLanded();
    for (let k = 0; k < files.length; k++) {
      const bytes = (await takeBlobAhead(files[k]!.path))!;
      expect(bytes.toString(), `blob ${k}`).toBe(texts[k]);
      const words = headWordsOf(bytes);
      expect(words, `blob ${k}`).toBeDefined();
      expect(headWordsOf(Buffer.from(bytes)), `blob ${k}: other bytes`).toBeUndefined();
      expect(planFromBytes(files[k]!.path, bytes, {}, words), `blob ${k}`).toEqual(planFromBytes(files[k]!.path, bytes, {}));
    }
    expect(planFromBytes(files[3]!.path, Buffer.from(texts[3]!), {})?.format).toBe('aws-json'); // the words were there to find
    expect(planFromBytes(files[0]!.path, Buffer.from(texts[0]!), {})?.format).toBe('azure-nsg');
    dropBlobsAhead();
  });

  it('starts none with FLOWSIEVE_BLOBS_AHEAD=off, and a dropped group frees its buffer once its read lands', async () => {
    const dir = tempDir();
    const files = Array.from({ length: 8 }, (_, k) => {
      const path = join(dir, `c${k}.json`);
      writeFileSync(path, `{"k":${k}}`);
      return { path, size: readFileSync(path).length };
    });
    process.env.FLOWSIEVE_BLOBS_AHEAD = 'off';
    readBlobsAhead(files, 0, 1 << 20, () => true);
    expect(blobsAheadNow().files).toBe(0);
    delete process.env.FLOWSIEVE_BLOBS_AHEAD;
    readBlobsAhead(files, 0, 1 << 20, () => true);
    expect(blobsAheadNow().files).toBe(8);
    dropBlobsAhead();
    expect(blobsAheadNow().files).toBe(0);
    await blobsAheadLanded(); // the drop gives each group back as its read lands
    expect(blobsAheadNow().groups).toBe(0);
  });

  it('hands a blob that became a FIFO back (rejects), where reading it as before would block', async () => {
    const dir = tempDir();
    const files = ['a', 'b', 'c'].map((n) => {
      const path = join(dir, `${n}.json`);
      writeFileSync(path, `{"${n}":1}`);
      return { path, size: readFileSync(path).length };
    });
    rmSync(files[1]!.path);
    execFileSync('mkfifo', [files[1]!.path]); // after planning
    try {
      readBlobsAhead(files, 0, 1 << 20, () => true);
      expect(blobsAheadNow().files).toBe(3);
      await blobsAheadLanded();
      expect((await takeBlobAhead(files[0]!.path))?.toString()).toBe('{"a":1}');
      await expect(takeBlobAhead(files[1]!.path)).rejects.toThrow(/not a regular file/);
      expect((await takeBlobAhead(files[2]!.path))?.toString()).toBe('{"c":1}');
    } finally {
      releaseFifo(files[1]!.path);
      dropBlobsAhead();
    }
  });

  it('reads a path named twice ahead once, and gives its group back once its blobs are taken', async () => {
    const dir = tempDir();
    const [a, b] = ['a', 'b'].map((n) => {
      const path = join(dir, `${n}.json`);
      writeFileSync(path, `{"${n}":1}`);
      return { path, size: readFileSync(path).length };
    });
    const files = [a!, a!, b!, a!];
    const before = blobsAheadNow();
    readBlobsAhead(files, 0, 1 << 20, () => true);
    // a, then b: a named again ends a group, and is read when its turn comes
    expect(blobsAheadNow().files).toBe(2);
    expect(blobsAheadNow().started - before.started).toBe(2);
    for (let k = 0; k < files.length; k++) {
      readBlobsAhead(files, k + 1, 1 << 20, () => true);
      const early = takeBlobAhead(files[k]!.path);
      if (early !== undefined) expect((await early)?.toString(), `file ${k}`).toBe(readFileSync(files[k]!.path).toString());
    }
    dropBlobsAhead();
    await blobsAheadLanded();
    expect(blobsAheadNow()).toMatchObject({ files: 0, groups: 0 });
  });

  it('a folder of Azure blobs, damaged ones included, gives the results it gives read blob by blob', async () => {
    const root = writeBlobs(join(tempDir('flowsieve-ahead-'), 'azure'), azureBlobs());
    const common = { pipeline: 'sharded', chunkBytes: 4096, workers: 1 };
    process.env.FLOWSIEVE_BLOBS_AHEAD = 'off';
    const plain = await runDetect([root], common);
    delete process.env.FLOWSIEVE_BLOBS_AHEAD;
    expect(plain.scans.length).toBeGreaterThan(5);
    expect(plain.rejects.length).toBeGreaterThan(0);
    for (const batchSize of [32768, 64]) {
      const before = blobsAheadNow().taken;
      const ahead = await runDetect([root], { ...common, batchSize });
      expect(ahead.shardParsed, `batch ${batchSize}`).toBeGreaterThan(0); // parsed in the main thread
      // read ahead there (this process's module): the blobs after each group's first, at least
      expect(blobsAheadNow().taken - before, `batch ${batchSize}`).toBeGreaterThan(10);
      expect(canon(ahead), `batch ${batchSize}`).toBe(canon(plain));
    }
  });
});

describe.runIf(posix && native?.treeWalkStart !== undefined)('a prewalk of the tree before planning (startPrewalk)', () => {
  restoreEnvAfterEach('FLOWSIEVE_PREWALK');

  /** A tree with what the walk must leave to planning: links, a FIFO, a name that is not UTF-8, an empty folder. */
  function tree(): string {
    const dir = tempDir();
    mkdirSync(join(dir, 'a', 'b', 'c'), { recursive: true });
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(dir, 'a', 'b', 'c', 'PT1H.json'), '{"records":[]}');
    writeFileSync(join(dir, 'a', 'x.log'), 'x');
    writeFileSync(join(dir, 'top.log'), 'top');
    symlinkSync(join(dir, 'a', 'b'), join(dir, 'link-to-b'));
    symlinkSync(join(dir, 'top.log'), join(dir, 'a', 'link-to-top'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'a', 'dangling'));
    execFileSync('mkfifo', [join(dir, 'a', 'fifo')]);
    mkdirSync(join(dir, 'odd'));
    // a name that is not UTF-8 among others (the walk drops the folder's listing part way)
    for (const name of ['0', 'm', 'z']) writeFileSync(join(dir, 'odd', name), name);
    writeFileSync(Buffer.concat([Buffer.from(join(dir, 'odd') + '/'), Buffer.from([0x61, 0xff, 0x62])]), 'odd');
    return dir;
  }

  it('plans what a fresh walk plans, through the look too, and gives each listing and size out once', () => {
    const dir = tree();
    const fresh = JSON.stringify(planInputs([dir], {}));
    startPrewalk(dir);
    expect(takeListing(join(dir, 'a', 'b'))?.map((e) => [e.name, e.isDirectory(), e.isFile()])).toEqual([['c', true, false]]);
    expect(takeListing(join(dir, 'a', 'b'))).toBeUndefined();
    expect(takeSize(join(dir, 'a', 'b', 'c', 'PT1H.json'))).toBe(14);
    expect(takeListing(join(dir, 'odd'))).toBeUndefined(); // a name that is not UTF-8: left to planning
    expect(takeListing(join(dir, 'empty'))).toEqual([]); // listed: no entries
    forgetListings();
    startPrewalk(dir);
    expect(JSON.stringify(planInputs([dir], {}))).toBe(fresh);
    startPrewalk(dir);
    smallInput([dir]);
    expect(JSON.stringify(planInputs([dir], {}))).toBe(fresh);
    const slash = JSON.stringify(planInputs([`${dir}/`], {}));
    startPrewalk(`${dir}/`);
    expect(JSON.stringify(planInputs([`${dir}/`], {}))).toBe(slash);
    forgetListings();
  });

  it('plans a root named relative to the working folder (., ./, a/.., a subfolder) as a fresh walk does', () => {
    const root = writeBlobs(join(tempDir('flowsieve-prewalk-'), 'azure'), azureBlobs());
    const absolute = planInputs([root], {});
    expect(absolute.length).toBeGreaterThan(10);
    const was = process.cwd();
    process.chdir(root);
    try {
      // '.', './' and 'a/..' join to the prefix '' (the root's files are named without one)
      for (const dir of ['.', './', 'insights-logs-flowlogflowevent/..', './insights-logs-flowlogflowevent/', 'insights-logs-networksecuritygroupflowevent']) {
        forgetListings();
        process.env.FLOWSIEVE_PREWALK = 'off';
        const fresh = planInputs([dir], {});
        delete process.env.FLOWSIEVE_PREWALK;
        startPrewalk(dir);
        const walked = planInputs([dir], {});
        expect(walked.length, dir).toBeGreaterThan(0);
        expect(JSON.stringify(walked), dir).toBe(JSON.stringify(fresh));
        if (['.', './', 'insights-logs-flowlogflowevent/..'].includes(dir)) expect(walked.map((f) => [join(root, f.path), f.size, f.format]), dir).toEqual(absolute.map((f) => [f.path, f.size, f.format]));
      }
    } finally {
      process.chdir(was);
      forgetListings();
    }
  });

  it("is started by detect's command line for any folder named first but GCP's exports, and hands each file's size over in its entry", () => {
    const dir = tree();
    launchLoneShard([dir, '--out', 'x']);
    expect(takeListing(join(dir, 'a'))?.map((e) => [e.name, e.size ?? -1])).toEqual([
      ['b', -1],
      ['dangling', -1],
      ['fifo', -1],
      ['link-to-top', -1],
      ['x.log', 1],
    ]);
    expect(takeSize(join(dir, 'top.log'))).toBe(3); // asked by its path (the look's way)
    expect(takeSize(join(dir, 'top.log'))).toBeUndefined(); // once
    expect(JSON.stringify(planInputs([dir], {}))).toBe(JSON.stringify((forgetListings(), planInputs([dir], {}))));
    forgetListings();
    launchLoneShard([join(dir, 'top.log')]); // a file: no walk
    expect(takeListing(join(dir, 'a'))).toBeUndefined();
    forgetListings();
  });

  it('starts none with FLOWSIEVE_PREWALK=off; a folder that cannot be opened is planning\'s to report', () => {
    const dir = tree();
    process.env.FLOWSIEVE_PREWALK = 'off';
    startPrewalk(dir);
    expect(takeListing(join(dir, 'a'))).toBeUndefined();
    delete process.env.FLOWSIEVE_PREWALK;
    startPrewalk(join(dir, 'missing'));
    expect(takeListing(join(dir, 'missing'))).toBeUndefined();
    expect(planInputs([join(dir, 'missing')], {})[0]?.error).toMatch(/cannot/);
    forgetListings();
  });
});
