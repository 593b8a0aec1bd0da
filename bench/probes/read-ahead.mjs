// What reading a folder's files costs in blocks of one size: read() in this thread ('sync'), or
// the next block read on libuv's pool into a second buffer while this thread counts the lines
// of the last ('ahead'). Prints, per round, the process's CPU and this thread's own (schedstat,
// ns). The probe behind bench/RESULTS.md "GCP blobs: the read moved off the parse thread".
//   node bench/probes/read-ahead.mjs DIR [BLOCK_BYTES] [sync|ahead]
import { closeSync, fstatSync, openSync, read, readFileSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const bs = Number(process.argv[3] ?? 1 << 20);
const mode = process.argv[4] ?? 'sync';
const threadNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
const files = readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => join(e.parentPath, e.name));
const bufs = [Buffer.allocUnsafe(bs), Buffer.allocUnsafe(bs)];
const readAt = (fd, b, n, pos) => new Promise((res, rej) => read(fd, b, 0, n, pos, (err, got) => (err ? rej(err) : res(got))));

/** The '\n's of b[0, n): a light stand-in for the parse. */
function lines(b, n) {
  let c = 0;
  for (let i = b.indexOf(10); i >= 0 && i < n; i = b.indexOf(10, i + 1)) c++;
  return c;
}

async function readFile(fd, size) {
  let count = 0;
  let pos = 0;
  if (mode === 'sync') {
    for (let got; pos < size && (got = readSync(fd, bufs[0], 0, bs, pos)) > 0; pos += got) count += lines(bufs[0], got);
    return count;
  }
  let k = 0;
  let got = readSync(fd, bufs[0], 0, Math.min(bs, size), 0);
  while (got > 0) {
    const next = pos + got;
    const ahead = next < size ? readAt(fd, bufs[1 - k], Math.min(bs, size - next), next) : null;
    count += lines(bufs[k], got);
    pos = next;
    k = 1 - k;
    got = ahead ? await ahead : 0;
  }
  return count;
}

for (let r = 0; r < 4; r++) {
  const c0 = process.cpuUsage();
  const t0 = threadNs();
  const w0 = performance.now();
  let count = 0;
  for (const f of files) {
    const fd = openSync(f, 'r');
    count += await readFile(fd, fstatSync(fd).size);
    closeSync(fd);
  }
  const c = process.cpuUsage(c0);
  console.log(`${mode} ${bs >> 10} KiB: ${count} lines, ${(performance.now() - w0).toFixed(1)} ms wall, process CPU ${((c.user + c.system) / 1000).toFixed(1)} ms, this thread ${((threadNs() - t0) / 1e6).toFixed(1)} ms`);
}
