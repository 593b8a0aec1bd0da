/**
 * OCSF and ECS findings (detect --findings, export --format) validated with ajv against
 * the OCSF 1.8.0 Detection Finding schema (compiled from the OCSF sources, vendored in
 * test/schemas) and a JSON schema built from the ECS field reference (@elastic/ecs);
 * block lists: aggregation, expiry, the AWS WAF / Azure NSG / NACL / MISP forms.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tempDir } from './helpers/tmp.js';
import { aggregate, unexpired } from '../dist/src/output/blocklists.js';

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default;
const { EcsFlat } = require('@elastic/ecs');
const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const OCSF = JSON.parse(readFileSync(new URL('./schemas/ocsf-1.8.0-detection_finding.schema.json', import.meta.url), 'utf8'));

/** A JSON schema of ECS documents from the field reference: every field typed, nothing else allowed. */
function ecsSchema(): object {
  const root: any = { type: 'object', properties: {}, additionalProperties: false };
  const leaf = (f: any): any => {
    const t = f.type;
    let s: any =
      ['keyword', 'constant_keyword', 'wildcard', 'match_only_text', 'text'].includes(t) ? { type: 'string' }
      : ['long', 'integer', 'short', 'byte', 'unsigned_long'].includes(t) ? { type: 'integer' }
      : ['float', 'double', 'scaled_float'].includes(t) ? { type: 'number' }
      : t === 'boolean' ? { type: 'boolean' }
      : t === 'date' ? { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z$' }
      : t === 'ip' ? { type: 'string', pattern: '^([0-9.]+|[0-9a-fA-F:.]+)$' }
      : t === 'object' && f.object_type === 'keyword' ? { type: 'object', additionalProperties: { type: 'string' } }
      : {};
    const allowed = (f.allowed_values ?? []).map((a: any) => a.name);
    if (allowed.length) s = { ...s, enum: allowed };
    else if (f.expected_values?.length) s = { ...s, enum: f.expected_values };
    return f.normalize?.includes('array') ? { anyOf: [s, { type: 'array', items: s }] } : s;
  };
  for (const [name, f] of Object.entries<any>(EcsFlat)) {
    const parts = name.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) {
      node.properties[p] ??= { type: 'object', properties: {}, additionalProperties: false };
      node = node.properties[p];
      if (!node.properties) break; // a leaf with sub-fields (rare): leave it open
    }
    if (node.properties) node.properties[parts[parts.length - 1]!] ??= leaf(f);
  }
  root.required = ['@timestamp', 'ecs', 'event', 'message'];
  return root;
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validOcsf = ajv.compile(OCSF);
const validEcs = ajv.compile(ecsSchema());
const errorsOf = (v: any) => JSON.stringify(v.errors?.slice(0, 5));
const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

const HDR = 'version account-id interface-id instance-id srcaddr dstaddr srcport dstport protocol packets bytes start end flow-direction log-status';
const T0 = 1709287200; // 2024-03-01T10:00:00Z
const aws = (src: string, dst: string, dport: number, dir: string, t: number, iface = 'eni-1', inst = 'i-1') =>
  `5 123456789012 ${iface} ${inst} ${src} ${dst} 40000 ${dport} 6 1 40 ${t} ${t} ${dir} OK`;

describe('OCSF and ECS findings', () => {
  const dir = tempDir();
  const out = join(dir, 'out');
  const state = join(dir, 'state');
  const exp = join(dir, 'export');
  beforeAll(() => {
    const rows = [HDR];
    for (let day = 0; day < 2; day++) {
      const t = T0 + day * 86400;
      // an internet scanner (Censys, a known actor) and an unknown one, both days
      for (let k = 0; k < 12; k++) rows.push(aws('162.142.125.10', `10.0.1.${k + 1}`, 22, 'ingress', t + k));
      for (let k = 0; k < 12; k++) rows.push(aws('45.77.1.2', `10.0.1.${k + 1}`, 3389, 'ingress', t + k));
      for (let k = 0; k < 12; k++) rows.push(aws('45.77.1.3', `10.0.1.${k + 1}`, 3389, 'ingress', t + k));
    }
    // a compromised host scanning the internet, and an internal sweep
    for (let k = 0; k < 120; k++) rows.push(aws('10.0.0.5', `81.2.${k >> 8}.${(k & 255) + 1}`, 23, 'egress', T0 + k, 'eni-w', 'i-worm'));
    for (let k = 0; k < 25; k++) rows.push(aws('10.0.0.6', `10.0.2.${k + 1}`, 445, 'egress', T0 + k, 'eni-l', 'i-lat'));
    writeFileSync(join(dir, 'flows.log'), rows.join('\n') + '\n');
    const r = spawnSync(process.execPath, [CLI, 'detect', join(dir, 'flows.log'), '--out', out, '--state', state, '--findings', 'ocsf,ecs', '--workers', '2', '--quiet'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const e = spawnSync(process.execPath, [CLI, 'export', '--state', state, '--out', exp, '--format', 'lists,ocsf,ecs,cidr,aws-waf,azure-nsg,aws-nacl,misp'], { encoding: 'utf8' });
    expect(e.stderr).toBe('');
    expect(e.status).toBe(0);
  });

  it('detect --findings ocsf: every scan key and alert is a valid OCSF 1.8.0 Detection Finding', () => {
    const found = lines(join(out, 'findings.ocsf.ndjson'));
    expect(found).toHaveLength(6 + 2); // 3 scanners x 2 days, the outbound and the internal alert
    for (const f of found) expect(validOcsf(f), errorsOf(validOcsf)).toBe(true);
    const censys = found.find((f) => f.evidences[0].src_endpoint.ip === '162.142.125.10');
    expect(censys.finding_info.title).toMatch(/Internet scanner 162\.142\.125\.10 on tcp\/22 \(Censys/i);
    expect(censys.evidences[0].src_endpoint.autonomous_system.number).toBe(398324);
    const internal = found.find((f) => f.unmapped.kind === 'internal');
    expect(internal.evidences[0].src_endpoint).toEqual({ ip: '10.0.0.6', interface_uid: 'eni-l', instance_uid: 'i-lat' });
    expect(internal.cloud).toEqual({ provider: 'AWS', account: { uid: '123456789012' } });
    expect(internal.evidences[0].src_endpoint.location).toBeUndefined();
    // the schema is a real check: a finding without finding_info, or with a bad enum, fails
    const { finding_info: _f, ...broken } = censys;
    expect(validOcsf(broken)).toBe(false);
    expect(validOcsf({ ...censys, severity_id: 7 })).toBe(false);
    expect(validOcsf({ ...censys, src_ip: '1.2.3.4' })).toBe(false);
  });

  it('detect --findings ecs: every document uses ECS fields with ECS types', () => {
    const docs = lines(join(out, 'findings.ecs.ndjson'));
    expect(docs).toHaveLength(8);
    for (const d of docs) expect(validEcs(d), errorsOf(validEcs)).toBe(true);
    const censys = docs.find((d) => d.source.ip === '162.142.125.10');
    expect(censys.source.as.number).toBe(398324);
    expect(censys.threat.indicator.description).toMatch(/censys/i);
    expect(validEcs({ ...censys, source: { ...censys.source, port: 'x' } })).toBe(false);
    expect(validEcs({ ...censys, flowsieve: {} })).toBe(false);
    // the same finding has the same id in both forms' inputs, run after run
    expect(new Set(docs.map((d) => d.event.id)).size).toBe(8);
  });

  it('export --format: OCSF and ECS per list, and block lists with expiry', () => {
    const persistent = lines(join(exp, 'persistent.ocsf.ndjson'));
    expect(persistent.map((f) => f.evidences[0].src_endpoint.ip)).toEqual(['45.77.1.2', '45.77.1.3', '162.142.125.10']);
    for (const f of persistent) expect(validOcsf(f), errorsOf(validOcsf)).toBe(true);
    for (const d of lines(join(exp, 'persistent.ecs.ndjson'))) expect(validEcs(d), errorsOf(validEcs)).toBe(true);
    const cidr = readFileSync(join(exp, 'persistent.cidr.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(cidr).toEqual(['45.77.1.2/31', '162.142.125.10/32']);
    const waf = JSON.parse(readFileSync(join(exp, 'persistent.aws-waf.json'), 'utf8'));
    expect(waf).toEqual([expect.objectContaining({ Scope: 'REGIONAL', IPAddressVersion: 'IPV4', Addresses: cidr })]);
    const nsg = JSON.parse(readFileSync(join(exp, 'persistent.azure-nsg.json'), 'utf8'));
    expect(nsg.properties).toMatchObject({ access: 'Deny', direction: 'Inbound', sourceAddressPrefixes: cidr });
    expect(readFileSync(join(exp, 'persistent.aws-nacl.sh'), 'utf8')).toContain('--cidr-block 45.77.1.2/31 --rule-action deny');
    const misp = JSON.parse(readFileSync(join(exp, 'persistent.misp.json'), 'utf8'));
    expect([misp.type, misp.version, misp.list]).toEqual(['cidr', 20240303, cidr]);
  });
});

describe('block list helpers', () => {
  it('aggregates to the fewest prefixes covering exactly the addresses', () => {
    expect(aggregate(['10.0.0.1', '10.0.0.0', '10.0.0.2', '10.0.0.3', '10.0.0.5', '2001:db8::1', '2001:db8::', '10.0.0.3'])).toEqual([
      '10.0.0.0/30', '10.0.0.5/32', '2001:db8::/127',
    ]);
    expect(aggregate(['10.0.0.1', '10.0.0.2'])).toEqual(['10.0.0.1/32', '10.0.0.2/32']); // not aligned: no /31
    const block = Array.from({ length: 256 }, (_, k) => `45.1.2.${k}`);
    expect(aggregate(block)).toEqual(['45.1.2.0/24']);
  });

  it('keeps a scanner listed ttl days per day seen after its last sighting', () => {
    const day = 86400;
    const asOf = 100 * day;
    const got = unexpired(
      [{ ip: 'a', days: 1, last_seen: 90 * day }, { ip: 'b', days: 1, last_seen: 95 * day }, { ip: 'c', days: 3, last_seen: 85 * day }, { ip: 'd', days: 50, last_seen: 5 * day }],
      { ttlDays: 7, maxDays: 90, asOf },
    );
    expect(got.map((e) => [e.ip, (e.expires - asOf) / day])).toEqual([['b', 2], ['c', 6]]);
  });
});
