/** Issue 16's small slips: decompressed_bytes counts the bytes of lines too long (gzip pieces, stdin). */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { V2_HEADER, v2Line } from './helpers/aws.js';

const T0 = 1700006400;

describe('decompressed_bytes', () => {
  it('includes the bytes of lines too long, however the file is cut into pieces', async () => {
    const dir = tempDir();
    const rows = [V2_HEADER];
    for (let i = 0; i < 3000; i++) rows.push(v2Line({ src: `45.1.${i % 250}.${i % 7}`, dst: '10.0.0.1', dport: 23, start: T0 }));
    rows.splice(500, 0, 'x'.repeat(300_000)); // a line too long in the middle
    const text = rows.join('\n') + '\n' + 'y'.repeat(200_000); // and one at the end, without a newline
    const gz = join(dir, 'a.log.gz');
    writeFileSync(gz, gzipSync(text));
    const over = { maxLineBytes: 65536, chunkBytes: 65536 };
    const pieces = await runDetect([gz], { ...over, gzipSplitBytes: 1 }); // split into pieces by the main thread
    expect(pieces.files[0]!.counters.rejected).toBe(2);
    expect(pieces.files[0]!.decompressedBytes).toBe(text.length);
    const stdin = await runDetect(['-'], { ...over, stdin: async function* () { for (let i = 0; i < text.length; i += 50_000) yield Buffer.from(text.slice(i, i + 50_000)); } });
    expect(stdin.files[0]!.counters.rejected).toBe(2);
    expect(stdin.files[0]!.decompressedBytes).toBe(text.length);
    expect(stdin.totals.records).toBe(3000);
  });
});

describe('peak_table_bytes', () => {
  it('stays within a --max-memory below the default table size', async () => {
    const dir = tempDir();
    const rows = [V2_HEADER];
    for (let i = 0; i < 30_000; i++) rows.push(v2Line({ src: `81.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, dst: `10.1.${i % 200}.7`, dport: 443, start: T0 + (i % 3600) }));
    const file = join(dir, 'flood.log');
    writeFileSync(file, rows.join('\n') + '\n');
    const r = await runDetect([file], { maxMemory: 2 << 20, spillDir: dir });
    expect(r.memory.spills).toBeGreaterThan(0);
    expect(r.memory.peak_table_bytes).toBeLessThanOrEqual(r.memory.limit_bytes); // it ran 3 % over before
  });
});
