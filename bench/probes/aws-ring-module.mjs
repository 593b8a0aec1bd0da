// Can the AWS module run on the batch ring's shared WebAssembly memory, without flags (session 20
// ringwrite: the design of a reader writing its rows straight into a ring slot)? Compiles
// assembly/aws-lines.ts a second time importing a shared memory (the flags scan-held-shared uses),
// says whether it has data segments (a shared memory's would be written again at every instance,
// over the ring), instantiates it over a shared memory after taking a region past a 64 MiB "ring"
// by memory.grow (as engine/scan-wasm.ts ringHeldArena places a held buffer), and reads the same
// text with both builds (routing off: every plain row's columns kept in the module's columns),
// the shared one with every address moved by the region's start: the columns must be equal.
//   node bench/probes/aws-ring-module.mjs TEXT_FILE [BYTES=262144]   (npm run build first; AWS v2 text)
/* global WebAssembly */
import asc from 'assemblyscript/asc';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (!file) throw new Error('usage: aws-ring-module.mjs TEXT_FILE [BYTES]');
const want = Number(process.argv[3] ?? 262144);
const out = `/tmp/aws-lines-shared-${process.pid}.wasm`;
const { error } = await asc.main(['assembly/aws-lines.ts', '-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', '--importMemory', '--initialMemory', '1', '--sharedMemory', '--maximumMemory', '65536', '--enable', 'threads', '--outFile', out], { stdout: process.stdout, stderr: process.stderr });
if (error) throw error;
const sharedBytes = readFileSync(out);
const privateBytes = readFileSync('dist/wasm/aws-lines.wasm');

/** The sections of a module (id: bytes), to see whether it has a data section (11). */
function sections(bytes) {
  let p = 8;
  const leb = () => {
    let r = 0;
    let s = 0;
    let b;
    do {
      b = bytes[p++];
      r |= (b & 0x7f) << s;
      s += 7;
    } while (b & 0x80);
    return r >>> 0;
  };
  const found = [];
  while (p < bytes.length) {
    const id = bytes[p++];
    const n = leb();
    found.push(`${id}:${n}`);
    p += n;
  }
  return found.join(' ');
}
console.log(`private build: ${privateBytes.length} bytes, sections ${sections(privateBytes)}`);
console.log(`shared build:  ${sharedBytes.length} bytes, sections ${sections(sharedBytes)} (11 = data: none means an instance writes nothing into the memory)`);

const { AWS_V2_FIELDS, rolesFor } = await import(pathToFileURL(resolve('dist/src/formats/aws.js')).href);
const roles = rolesFor(AWS_V2_FIELDS).roles;
const text = readFileSync(file);
const start = text.indexOf(10) + 1; // past a header line
const block = text.subarray(start, start + Math.min(want, text.length - start));

// aws-wasm.ts's layout, from `base`: roles, block, columns (4096 rows), bitmap, routing block, separators, ids block
const ROWS = 4096;
const WINDOW = 256 * 1024;
const layout = (base) => {
  const roles = base;
  const blockAt = base + 1024;
  const columns = blockAt + WINDOW;
  const map = columns + ROWS * (24 * 4 + 2 * 8 + 2 * 16);
  const sink = map + WINDOW / 8 + 64 + 512 + 2048;
  const seps = sink + 1024 + 16 * 64 + 8;
  const ids = seps + (WINDOW + 80) * 4;
  const end = ids + 64 + 65536 * 4 + 32768 * 16 + (1 << 20);
  return { roles, blockAt, columns, map, sink, seps, ids, end };
};

function read(instance, memory, base) {
  const l = layout(base);
  if (memory.buffer.byteLength < l.end + 65536) memory.grow(Math.ceil((l.end + 65536 - memory.buffer.byteLength) / 65536));
  const u8 = new Uint8Array(memory.buffer);
  u8.set(roles, l.roles);
  u8.set(block, l.blockAt);
  new Float64Array(memory.buffer, l.sink, 32).fill(0); // routing off: every plain row is ROUTE_EMIT
  const idSlots = new Float64Array(memory.buffer, l.ids, 8);
  idSlots.fill(0);
  idSlots[3] = 1; // a new dictionary
  const rows = instance.exports.readLines(l.blockAt, block.length, l.roles, roles.length, ROWS, l.columns, l.map, l.sink, l.ids, l.seps);
  return { rows, columns: new Uint8Array(memory.buffer, l.columns, ROWS * (24 * 4 + 2 * 8 + 2 * 16)).slice() };
}

const own = new WebAssembly.Instance(new WebAssembly.Module(privateBytes), {});
const a = read(own, own.exports.memory, 0);
const ring = new WebAssembly.Memory({ initial: 1024, maximum: 65536, shared: true }); // 64 MiB of "slots"
const pages = Math.ceil(layout(0).end / 65536) + 1;
const at = ring.grow(pages) * 65536; // this thread's region: memory.grow returns where it starts
const onRing = new WebAssembly.Instance(new WebAssembly.Module(sharedBytes), { env: { memory: ring } });
const b = read(onRing, ring, at);
// offsets are relative to the block, so every column compares as it is, but a token's end where the
// row has no such token (its start -1: the caller reads neither), which is a stale address
function maskUnused(r) {
  const i32 = new Int32Array(r.columns.buffer);
  for (const [s, e] of [[15, 16], [17, 18]]) for (let k = 0; k < ROWS; k++) if (i32[s * ROWS + k] < 0) i32[e * ROWS + k] = 0;
}
maskUnused(a);
maskUnused(b);
const same = a.rows === b.rows && a.columns.every((v, i) => v === b.columns[i]);
console.log(`rows: private ${a.rows}, on the ring's memory at ${at} ${b.rows}; columns ${same ? 'equal' : 'DIFFERENT'}`);
if (!same) process.exitCode = 1;
if (!same) {
  const names = ['start', 'end', 'flags', 'src', 'dst', 'sport', 'dport', 'proto', 'startTime', 'endTime', 'tcpFlags', 'action', 'direction', 'route', 'feed', 'ifaceS', 'ifaceE', 'instS', 'instE', 'accountId', 'regionId', 'ifaceId', 'instanceId'];
  const diffs = new Map();
  for (let i = 0; i < a.columns.length; i++) {
    if (a.columns[i] === b.columns[i]) continue;
    const col = Math.floor(i / (ROWS * 4));
    const name = names[col] ?? `byte ${i}`;
    diffs.set(name, (diffs.get(name) ?? 0) + 1);
  }
  console.log('differing bytes by column:', Object.fromEntries(diffs));
}
