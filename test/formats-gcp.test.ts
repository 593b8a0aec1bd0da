import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HAVE_FIXTURES, LOCAL, fixture, readBytes as readBytesRaw, readPath as readPathRaw, type ReadOptions } from './helpers/read-format.js';

/** Every reader result here must account for every input unit (detection.md §6). */
function readPath(path: string, opts?: ReadOptions) {
  const r = readPathRaw(path, opts);
  expect(r.gap, `accounting gap in ${path}`).toBe(0);
  return r;
}
function readBytes(buf: Uint8Array, opts?: ReadOptions) {
  const r = readBytesRaw(buf, opts);
  expect(r.gap, 'accounting gap').toBe(0);
  return r;
}
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { rfc3339Seconds } from '../dist/src/formats/gcp.js';

const fx = HAVE_FIXTURES ? it : it.skip;
if (!HAVE_FIXTURES) console.warn('formats-gcp: ../shared/fixtures is absent; the public-fixture tests are skipped');

describe('GCP fixtures (counts as in fixtures/README.md)', () => {
  fx('Beats excerpt (NDJSON, 14 entries): 9 name both VMs; the 3 SRC ones of those count as duplicates', () => {
    const r = readPath(fixture('gcp-vpc/elastic-beats/vpc-flow-log-entries.first14.json.log')!);
    expect(r.format).toBe('gcp');
    expect(r.counters).toMatchObject({ lines: 14, records: 11, duplicates: 3, rejected: 0 });
    expect(r.flows.filter((f) => f.direction === 'ingress')).toHaveLength(8); // every DEST entry
    // the SSH probe 192.0.2.23 -> 10.139.99.242:22, from the destination's side
    expect(r.flows.find((f) => f.dport === 22)).toMatchObject({
      src: '192.0.2.23', dst: '10.139.99.242', packets: 3, bytes: 0, account: 'my-sample-project', region: 'us-east1', instance: 'elasticsearch',
      cloud: 'gcp', action: 'unknown',
    });
  });

  fx('extended capture (JSON array of 34): 34 records, 12 inbound SSH from the internet reported by DEST', () => {
    const r = readPath(fixture('gcp-vpc/otel-contrib/vpc-flow-log-extended.json')!);
    expect(r.format).toBe('gcp-json');
    expect(r.counters).toMatchObject({ lines: 34, records: 34, duplicates: 0, rejected: 0 });
    const ssh = r.flows.filter((f) => f.direction === 'ingress' && f.dport === 22 && !f.src.startsWith('10.') && !f.src.startsWith('35.235.'));
    expect(new Set(ssh.map((f) => f.src))).toEqual(new Set(['118.31.249.253', '45.78.219.169', '45.78.237.21', '193.32.162.146', '103.42.181.150', '45.148.10.240']));
    expect(ssh).toHaveLength(12);
    for (const f of r.flows) expect(f.account).toBe('elastic-logstash');
  });

  const singles: Array<[string, string, number]> = [
    ['vpc-flow-log-managed-instance.ndjson', 'gcp', 2],
    ['vpc-flow-log-google-service.ndjson', 'gcp', 2],
    ['vpc-flow-log-managed-instance.json', 'gcp-json', 1],
    ['vpc-flow-log-google-service.json', 'gcp-json', 1],
    ['vpc-flow-log-0-bytes-sent.json', 'gcp-json', 1],
    ['vpc-flow-log-from-computeengine.json', 'gcp-json', 1],
    ['vpc-flow-log-w-dest-vpc.json', 'gcp-json', 1],
    ['vpc-flow-log-w-internet-routing-details.json', 'gcp-json', 1],
  ];
  for (const [file, format, n] of singles) {
    fx(`${file}: ${n} record(s)`, () => {
      const r = readPath(fixture(`gcp-vpc/otel-contrib/${file}`)!);
      expect(r.format).toBe(format);
      expect(r.counters).toMatchObject({ lines: n, records: n, rejected: 0, duplicates: 0 });
    });
  }

  fx('details: ICMP without ports, bytes_sent "0" with packets, the managed-instance probe', () => {
    const icmp = readPath(fixture('gcp-vpc/otel-contrib/vpc-flow-log-w-internet-routing-details.json')!).flows[0]!;
    expect(icmp).toMatchObject({ proto: 1, sport: 0, dport: 0, packets: 20, bytes: 800, account: 'test-project-id', region: 'asia-south1', direction: 'egress' });
    const zero = readPath(fixture('gcp-vpc/otel-contrib/vpc-flow-log-0-bytes-sent.json')!).flows[0]!;
    expect(zero).toMatchObject({ packets: 640, bytes: 0 });
    const probe = readPath(fixture('gcp-vpc/otel-contrib/vpc-flow-log-managed-instance.json')!).flows[0]!;
    expect(probe).toMatchObject({ src: '45.78.219.169', dst: '10.10.0.2', dport: 22, direction: 'ingress', region: 'us-central1', account: 'elastic-logstash' });
  });

  fx('synthetic (both ends VMs, reporter SRC): counted once, as a duplicate of the DEST copy', () => {
    const r = readPath(fixture('gcp-vpc/otel-contrib/vpc-flow-log-synthetic.json')!);
    expect(r.counters).toMatchObject({ lines: 1, records: 0, duplicates: 1, rejected: 0 });
  });
});

describe('GCP hand-written cases (test/fixtures/gcp-cases.ndjson)', () => {
  const r = readPath(LOCAL + 'gcp-cases.ndjson');
  const at = (line: number) => r.flows.find((f) => f.line === line);

  it('counts every line: records, the duplicate, the rejects', () => {
    expect(r.format).toBe('gcp');
    expect(r.counters).toMatchObject({ lines: 14, records: 8, duplicates: 1, rejected: 4, blank: 1 });
  });

  it('a flow reported from both ends counts once, from the destination VM', () => {
    expect(at(2)).toBeUndefined(); // SRC copy
    expect(at(3)).toMatchObject({ direction: 'ingress', account: 'proj-b', region: 'europe-west1', instance: 'vm-2' });
  });

  it('int64 counters as strings (beyond 2^32) or numbers; ICMP without ports', () => {
    expect(at(4)).toMatchObject({ bytes: 12345678901, packets: 9000000, direction: 'egress', instance: 'vm-1' });
    expect(at(5)).toMatchObject({ proto: 1, sport: 0, dport: 0, bytes: 800, packets: 20 });
  });

  it('RFC 3339 times: nanoseconds dropped, offsets applied', () => {
    expect(at(1)).toMatchObject({ start: 1709287200, end: 1709287205 });
    expect(at(6)).toMatchObject({ start: 1709287200, end: 1709287201 });
    const t = (s: string) => rfc3339Seconds(Buffer.from(s), 0, s.length);
    expect(t('1970-01-01T00:00:00Z')).toBe(0);
    expect(t('2024-02-29T23:59:59.999999999Z')).toBe(1709251199);
    expect(t('2024-03-01 10:00:00.123456 UTC')).toBe(1709287200);
    for (const bad of ['2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-03-01T10:00:00', '2024-03-01T10:00:00.Z', '2024-03-01T25:00:00Z']) expect(t(bad), bad).toBeNaN();
  });

  it('region from the zone when the instance has none; project from logName when no side is known', () => {
    expect(at(12)).toMatchObject({ account: 'proj-c', region: 'asia-south1', instance: 'vm-3' });
    expect(at(14)).toMatchObject({ account: 'proj-a', region: '', direction: 'unknown' });
  });

  it('a Pub/Sub push envelope is unwrapped', () => {
    expect(at(11)).toMatchObject({ src: '45.33.1.5', dport: 3389, direction: 'ingress' });
  });

  it('says why a line is refused: bad counter, cut-off JSON, not a flow entry, invalid UTF-8', () => {
    expect(r.rejects.map((j) => j.line)).toEqual([7, 8, 10, 13]);
    expect(r.rejects[0]!.reason).toBe('bytes_sent is not a non-negative integer');
    expect(r.rejects[1]!.reason).toMatch(/^invalid JSON: input ends inside an object at column \d+$/);
    expect(r.rejects[2]!.reason).toMatch(/no jsonPayload.connection/);
    expect(r.rejects[3]!.reason).toMatch(/invalid UTF-8/);
  });

  it('gives the same result when the file arrives in small blocks (lines split across reads)', () => {
    const small = readPath(LOCAL + 'gcp-cases.ndjson', { block: 97 });
    expect(small.counters).toEqual(r.counters);
    expect(small.flows).toEqual(r.flows);
    expect(small.rejects.map((j) => [j.line, j.offset])).toEqual(r.rejects.map((j) => [j.line, j.offset]));
  });
});

describe('GCP JSON arrays', () => {
  it('reads an array export', () => {
    const r = readPath(LOCAL + 'gcp-array.json');
    expect(r.format).toBe('gcp-json');
    expect(r.counters).toMatchObject({ lines: 3, records: 3, rejected: 0 });
    expect(r.flows.map((f) => f.line)).toEqual([2, 37, 72]);
  });

  it('an array cut half-way keeps the entries before the cut and names where it broke', () => {
    const r = readPath(LOCAL + 'gcp-array-truncated.json');
    expect(r.counters).toMatchObject({ lines: 3, records: 2, rejected: 1 });
    expect(r.rejects[0]!.reason).toMatch(/^invalid JSON in LogEntry #3 \(from line 72\): input ends .* at line 78/);
  });

  it('a bad entry inside an array is one reject; the entries after it are read', () => {
    const arr = JSON.parse(readFileSync(LOCAL + 'gcp-array.json', 'utf8')) as unknown[];
    const text = JSON.stringify(arr).replace('"insertId":"x"', '"insertId":"\\q"'); // first entry: a bad escape
    const r = readBytes(Buffer.from(text));
    expect(r.counters).toMatchObject({ lines: 3, records: 2, rejected: 1 });
    expect(r.rejects[0]!.reason).toMatch(/LogEntry #1.*bad escape/);
  });
});

describe('GCP end to end (detect on a folder)', () => {
  it('bad lines are rejects, not a change of format: the run is not partial', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'flows.json'), readFileSync(LOCAL + 'gcp-cases.ndjson'));
    const res = await runDetect([dir]);
    expect(res.files[0]!.format).toBe('gcp');
    expect(res.files[0]!.error).toBeUndefined();
    expect(res.totals).toMatchObject({ lines: 14, records: 8, duplicates: 1, rejected: 4, blank: 1 });
    expect(res.rejects.map((r) => r.line)).toEqual([7, 8, 10, 13]);
  });


  it('splits a big NDJSON file across workers and finds a scan of 15 VMs, whatever the chunking', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const base = Date.UTC(2024, 2, 1, 10) / 1000;
    for (let i = 0; i < 600; i++) {
      const scan = i % 40 === 0; // 15 probes from one scanner to 15 VMs in 3 projects
      const vm = scan ? i / 40 : i % 50;
      const project = `proj-${vm % 3}`;
      const t = new Date((base + i) * 1000).toISOString().replace('.000Z', '.123456789Z');
      lines.push(JSON.stringify({
        insertId: String(i),
        jsonPayload: {
          bytes_sent: scan ? '44' : String(100 + i), packets_sent: scan ? '1' : String(1 + (i % 7)),
          connection: { src_ip: scan ? '45.88.1.2' : `198.${20 + (i % 50)}.0.${1 + (i % 200)}`, src_port: 40000 + i, dest_ip: `10.0.${vm % 3}.${vm + 2}`, dest_port: scan ? 5432 : 443, protocol: 6 },
          dest_instance: { project_id: project, region: vm % 2 ? 'us-east1' : 'europe-west4', vm_name: `vm-${vm}`, zone: 'x' },
          reporter: 'DEST', start_time: t, end_time: t,
        },
        logName: `projects/${project}/logs/compute.googleapis.com%2Fvpc_flows`,
        resource: { labels: { project_id: project }, type: 'gce_subnetwork' },
      }));
    }
    writeFileSync(join(dir, '10:00:00_10:59:59_S0.json'), lines.join('\n') + '\n');
    const run = (chunkBytes?: number) => runDetect([dir], chunkBytes ? { chunkBytes } : {});
    const one = await run();
    const many = await run(16 * 1024); // ~25 chunks, lines cut at chunk edges
    for (const res of [one, many]) {
      expect(res.files[0]!.format).toBe('gcp');
      expect(res.totals).toMatchObject({ lines: 600, records: 600, rejected: 0, duplicates: 0 });
      expect(res.scans).toHaveLength(1);
      expect(res.scans[0]).toMatchObject({ src: '45.88.1.2', dstPort: 5432, endpoints: 15, accounts: 3, regions: 2, clouds: 1, cvPackets: 0, cvBytes: 0 });
    }
    expect(many.scans).toEqual(one.scans);
  });
});
