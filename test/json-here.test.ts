/**
 * A folder of JSON blobs whose paths name their format (Azure PT1H.json, GCP vpc_flows exports),
 * read at one parser: the main thread parses them (src/engine/parse-here.ts), with no parse
 * thread. Azure blobs alone are parsed by the shard placed in the main thread, every task
 * ('fusedParseHere'); GCP exports are parsed by the main thread, which routes their batches
 * to the shard thread (which parses tasks too where parsesInShard says). Damaged and
 * misnamed blobs included, the results (verdicts, rejects, each file's report and error) must
 * be those of the parse thread (FLOWSIEVE_PARSE_HERE=off).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { azureBlobs, canon, fixture, GCP, writeBlobs } from './helpers/json-blobs.js';
import { restoreEnvAfterEach } from './helpers/env.js';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { parseHereMayApply, parsesHereFits } from '../dist/src/engine/parse-here.js';

/** GCP NDJSON entries: source `src` probing port 3389 of `n` addresses. */
function gcpScan(src: string, n: number, hour: number): Buffer {
  const lines = Array.from({ length: n }, (_, k) =>
    JSON.stringify({
      insertId: `i${hour}-${k}`,
      jsonPayload: {
        connection: { src_ip: src, dest_ip: `10.1.${k >> 6}.${(k & 63) + 2}`, src_port: 40000 + k, dest_port: 3389, protocol: 6 },
        reporter: 'DEST',
        start_time: `2024-03-01T${String(hour).padStart(2, '0')}:00:${String(k % 60).padStart(2, '0')}Z`,
        end_time: `2024-03-01T${String(hour).padStart(2, '0')}:00:${String(k % 60).padStart(2, '0')}Z`,
        packets_sent: '1',
        bytes_sent: '60',
      },
      logName: 'projects/p1/logs/compute.googleapis.com%2Fvpc_flows',
      timestamp: `2024-03-01T${String(hour).padStart(2, '0')}:01:00Z`,
    }),
  );
  return Buffer.from(lines.join('\n') + '\n');
}

/** GCP exports, several with scans, and damaged or other content. */
function gcpBlobs(): Array<[string, Buffer]> {
  const blobs: Array<[string, Buffer]> = [];
  for (let h = 0; h < 10; h++) blobs.push([`${GCP}/${String(h).padStart(2, '0')}:00:00_${String(h).padStart(2, '0')}:59:59_S0.json`, gcpScan(`45.10.1.${1 + h}`, 20 + h * 7, h)]);
  const cut = gcpScan('45.10.9.9', 40, 11).toString();
  blobs.push(
    [`${GCP}/10:00:00_10:59:59_S0.json`, fixture('gcp-cases.ndjson')],
    [`${GCP}/11:00:00_11:59:59_S0.json`, Buffer.from(cut.slice(0, cut.length - 37))], // its last line cut
    [`${GCP}/12:00:00_12:59:59_S0.json`, Buffer.from(cut.replace('"dest_port":3389', '"dest_port":}'))], // a malformed line
    [`${GCP}/13:00:00_13:59:59_S0.json`, fixture('gcp-array.json')], // gcp-json, not what the name says
    [`${GCP}/14:00:00_14:59:59_S0.json`, fixture('gcp-array-truncated.json')],
    [`${GCP}/15:00:00_15:59:59_S0.json`, fixture('aws-firehose.ndjson')],
  );
  return blobs;
}

let azure: string;
let gcp: string;

beforeAll(() => {
  const dir = tempDir('flowsieve-json-here-');
  azure = writeBlobs(join(dir, 'azure'), azureBlobs());
  gcp = writeBlobs(join(dir, 'gcp'), gcpBlobs());
});

describe('the main thread parses a folder of named JSON blobs', () => {
  restoreEnvAfterEach('FLOWSIEVE_PARSE_HERE');
  restoreEnvAfterEach('FLOWSIEVE_SHARD_PARSES');
  // sharded: these small folders are not read fused; small chunks: several tasks
  const common = { pipeline: 'sharded', chunkBytes: 4096, workers: 1 };

  /** The run with a parse thread (FLOWSIEVE_PARSE_HERE=off), which the others must match: scans and rejects in it. */
  async function viaThread(input: string) {
    process.env.FLOWSIEVE_PARSE_HERE = 'off';
    const thread = await runDetect([input], common);
    delete process.env.FLOWSIEVE_PARSE_HERE;
    expect(thread.parsedHere).toBe(false);
    expect(thread.scans.length).toBeGreaterThan(5);
    expect(thread.rejects.length).toBeGreaterThan(0);
    return thread;
  }

  it('Azure blobs: the shard in the main thread parses them, with the parse thread results', async () => {
    const thread = await viaThread(azure);
    expect(thread.files.filter((f: any) => f.error).length).toBeGreaterThan(1);
    for (const batchSize of [32768, 64]) {
      const here = await runDetect([azure], { ...common, batchSize });
      expect(here.parsedHere, `batch ${batchSize}`).toBe(true);
      expect(here.shardParsed, `batch ${batchSize}`).toBeGreaterThan(0); // by the shard placed in this thread
      expect(canon(here), `batch ${batchSize}`).toBe(canon(thread));
    }
  });

  it('GCP exports: the main thread parses them (and the shard thread too), with the parse thread results', async () => {
    const thread = await viaThread(gcp);
    for (const [batchSize, shardParses] of [[32768, 'off'], [64, 'off'], [256, 'always']] as const) {
      process.env.FLOWSIEVE_SHARD_PARSES = shardParses;
      const here = await runDetect([gcp], { ...common, batchSize });
      expect(here.parsedHere, `batch ${batchSize}`).toBe(true);
      expect((here.shardParsed ?? 0) > 0, `batch ${batchSize}`).toBe(shardParses === 'always');
      expect(canon(here), `batch ${batchSize}`).toBe(canon(thread));
    }
  });

  it('both folders at once, at one parse thread and more workers; not at two parse threads', async () => {
    const thread = await viaThread(dirname(azure));
    for (const workers of [1, 2, 3]) {
      const here = await runDetect([dirname(azure)], { ...common, workers, parseThreads: 1, batchSize: 256 });
      expect(here.parsedHere, `${workers} workers`).toBe(true);
      expect(canon(here), `${workers} workers`).toBe(canon(thread));
    }
    const two = await runDetect([dirname(azure)], { ...common, workers: 2 }); // two parse threads: they parse
    expect(two.parsedHere).toBe(false);
    expect(canon(two)).toBe(canon(thread));
  });

  it('applies to one folder whose first file is a plain blob its path names, planned as such alone', () => {
    const opts = { workers: 1, inputs: [gcp], chunkBytes: 1 << 20, pipeline: undefined, shardOp: undefined };
    expect(parseHereMayApply(opts as never, 16)).toBe(true);
    expect(parseHereMayApply({ ...opts, inputs: [azure] } as never, 16)).toBe(true);
    expect(parseHereMayApply({ ...opts, inputs: [dirname(azure)] } as never, 16)).toBe(true);
    // at one parse thread only: not at the default parse threads of more workers, even on two cores
    expect(parseHereMayApply({ ...opts, workers: 2 } as never, 2)).toBe(false);
    expect(parseHereMayApply({ ...opts, workers: 2, parseThreads: 1 } as never, 2)).toBe(true);
    expect(parseHereMayApply({ ...opts, inputs: [gcp, azure] } as never, 16)).toBe(false);
    const other = tempDir('flowsieve-json-here-other-');
    writeBlobs(other, [['a/b/flows.json', fixture('gcp-cases.ndjson')]]); // a name that names no format
    expect(parseHereMayApply({ ...opts, inputs: [other] } as never, 16)).toBe(false);
    const gz = tempDir('flowsieve-json-here-gz-');
    writeBlobs(gz, [[`${GCP}/00:00:00_00:59:59_S0.json.gz`, gzipSync(fixture('gcp-cases.ndjson'))]]);
    expect(parseHereMayApply({ ...opts, inputs: [gz] } as never, 16)).toBe(false);
    const gcpFile = { path: 'x', format: 'gcp', gzip: false } as never;
    expect(parsesHereFits([gcpFile], true)).toBe(true);
    expect(parsesHereFits([gcpFile], false)).toBe(false); // more parse threads: they share the parse
    expect(parsesHereFits([{ path: 'x', format: 'azure-nsg', gzip: false } as never, { path: 'y', format: 'azure-vnet', gzip: false } as never], true)).toBe(true);
    expect(parsesHereFits([{ path: 'x', format: 'gcp', gzip: true } as never], true)).toBe(false);
    expect(parsesHereFits([gcpFile, { path: 'y', format: 'netflow-v5', gzip: false } as never], true)).toBe(false);
  });
});
