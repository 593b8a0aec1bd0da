/**
 * ground-truth.json: every planted scan key (under each profile) with the features the
 * engine must report, every hard negative with what it would take for it to be flagged,
 * and the planted keys that came close but are not scans (e.g. a slow scanner's window
 * halves). A hard negative that turned out to be a scan is a bug in the scenario: the
 * run fails rather than write a wrong truth.
 */
import type { Entity } from './entities.js';
import type { OutboundHost } from './compromised.js';
import type { OutboundGroup } from './outbound-truth.js';
import { DEFAULT_OUTBOUND } from '../engine/outbound-table.js';
import type { Plan } from './plan.js';
import { PROFILE_THRESHOLDS, type TruthKey, type TruthTracker } from './truth.js';
import type { GenerateOptions } from './options.js';
import { isoSeconds } from './clock.js';

/** Keys of planted scanners with at least this many endpoints are listed even when not scans. */
const NOTABLE_ENDPOINTS = 5;

type PublicKey = Omit<TruthKey, 'entity' | 'window' | 'srcWords' | 'failed'> & { entity: string; failed?: string[] };

/** Planted entity names by index: the inbound entities, then the outbound hosts. */
type Names = (index: number) => string;

function publicKey(k: TruthKey, nameOf: Names, withFailed: boolean): PublicKey {
  const { entity, window: _w, srcWords: _s, failed, ...rest } = k;
  return { ...rest, entity: nameOf(entity), ...(withFailed ? { failed } : {}) };
}

export function groundTruth(
  tracker: TruthTracker,
  entities: Entity[],
  hosts: OutboundHost[],
  plan: Plan,
  o: GenerateOptions,
  counts: { records: Record<string, number>; totalRecords: number },
): { document: Record<string, unknown>; scanKeys: Record<string, number>; outboundAlerts: number } {
  const infoOf = (i: number) => (i < entities.length ? entities[i]!.info : hosts[i - entities.length]!.info);
  const nameOf: Names = (i) => infoOf(i).name;
  const keys = tracker.results();
  const profiles = Object.keys(PROFILE_THRESHOLDS);
  const scanKeys = Object.fromEntries(profiles.map((p) => [p, keys.filter((k) => k.profiles.includes(p)).length]));

  const negatives = entities.filter((e) => e.info.role === 'hard_negative');
  for (const e of negatives) {
    const bad = keys.find((k) => k.entity === e.info.index && k.profiles.length > 0);
    if (bad) throw new Error(`scenario bug: hard negative '${e.info.name}' is a scan (${JSON.stringify(publicKey(bad, nameOf, true))})`);
  }
  const warnings = entities
    .filter((e) => e.info.role === 'scanner' && !keys.some((k) => k.entity === e.info.index && k.profiles.includes('default')))
    .filter((e) => e.info.name !== 'slow-redis' && !(e.info.kind === 'cross-cloud' && o.clouds.length < 3)) // by design
    .map((e) => `scanner '${e.info.name}' has no scan key in this sample: in no ${o.windowSeconds} s window do its probes meet the default thresholds`);
  const outbound = outboundTruth(tracker, hosts, nameOf, o);
  warnings.push(...outbound.warnings);

  const document = {
    generator: {
      tool: 'flowsieve generate',
      seed: o.seed,
      scale: o.scale,
      days: o.days,
      start: isoSeconds(o.start).slice(0, 10),
      clouds: o.clouds,
      window_seconds: o.windowSeconds,
    },
    how_to_check:
      'flowsieve detect ' + o.clouds.map((c) => `DIR/${c}`).join(' ') + ' --out OUT' +
      (o.clouds.includes('azure') ? ' --region-map META/region-map.json' : '') +
      ' [--profile multi-cloud]: scans.ndjson must hold exactly the keys of `scanners` whose `profiles` name the profile used',
    profiles: PROFILE_THRESHOLDS,
    records: { ...counts.records, total: counts.totalRecords, planted: tracker.written, planted_inbound: tracker.inbound, planted_outbound: tracker.outbound.outbound },
    estate: {
      streams: plan.streams.map((s) => ({ cloud: s.cloud, kind: s.kind, account: s.account, region: s.region, endpoints: s.endpoints.length })),
      endpoints: plan.endpoints.length,
    },
    scan_keys: scanKeys,
    scanners: keys.filter((k) => k.profiles.length > 0).map((k) => publicKey(k, nameOf, false)),
    not_scans: keys
      .filter((k) => k.profiles.length === 0 && k.endpoints >= NOTABLE_ENDPOINTS && infoOf(k.entity).role === 'scanner')
      .map((k) => publicKey(k, nameOf, true)),
    hard_negatives: negatives.map((e) => {
      const own = keys.filter((k) => k.entity === e.info.index);
      const largest = own.reduce<TruthKey | null>((m, k) => (m === null || k.endpoints > m.endpoints ? k : m), null);
      return {
        src: e.info.src,
        entity: e.info.name,
        kind: e.info.kind,
        reason: e.info.reason,
        description: e.info.description,
        inbound_keys: own.length,
        largest_key: largest ? publicKey(largest, nameOf, true) : null,
      };
    }),
    entities: entities.map((e) => ({
      name: e.info.name,
      kind: e.info.kind,
      role: e.info.role,
      src: e.info.src,
      description: e.info.description,
      scan_keys: Object.fromEntries(profiles.map((p) => [p, keys.filter((k) => k.entity === e.info.index && k.profiles.includes(p)).length])),
    })),
    outbound: outbound.section,
    warnings,
  };
  return { document, scanKeys, outboundAlerts: outbound.alerts };
}

/**
 * The `outbound` section: the alerts detect must write with `--allow META/allow.txt`, the
 * ones the allow list suppresses, and each planted host with what happens to it. An
 * outbound negative (miner, NAT) that comes out as an alert stops the run, like a hard
 * negative that is a scan.
 */
function outboundTruth(tracker: TruthTracker, hosts: OutboundHost[], nameOf: Names, o: GenerateOptions) {
  const { passing, perEntity } = tracker.outboundResults();
  const allowIds = new Set(hosts.filter((h) => h.info.allowListed).map((h) => h.info.iface || h.info.instance));
  const allowed = (g: OutboundGroup) =>
    [...(g.alert.interface ?? '').split(';'), ...(g.alert.instance ?? '').split(';')].some((id) => id !== '' && allowIds.has(id));
  const listed = (g: OutboundGroup) => ({ host: nameOf(g.entity), ...g.alert });
  const withFailed = (g: OutboundGroup | null) => (g ? { ...listed(g), failed: g.failed } : null);
  const alerts = passing.filter((g) => !allowed(g));
  const suppressed = passing.filter(allowed);
  const made = (h: OutboundHost) => perEntity.get(h.info.index);

  for (const h of hosts) {
    const bad = alerts.find((g) => g.entity === h.info.index);
    if (h.info.role === 'outbound_negative' && bad) throw new Error(`scenario bug: outbound negative '${h.info.name}' is alerted (${JSON.stringify(listed(bad))})`);
  }
  const warnings = hosts
    .filter((h) => h.info.role === 'compromised' && !alerts.some((g) => g.entity === h.info.index))
    .map((h) => `compromised host '${h.info.name}' has no outbound alert in this sample (${o.windowSeconds} s windows)`);
  const allowFile = 'allow.txt';
  const section = {
    how_to_check:
      'flowsieve detect ' + o.clouds.map((c) => `DIR/${c}`).join(' ') + ` --allow META/${allowFile} --out OUT` +
      (o.clouds.includes('azure') ? ' --region-map META/region-map.json' : '') +
      ': outbound.ndjson must hold exactly `alerts` (every field but looks_like_nat); without --allow, `alerts` and `suppressed_by_allow_list`',
    thresholds: { min_targets: DEFAULT_OUTBOUND.minTargets, min_ports: DEFAULT_OUTBOUND.minPorts, min_internal_targets: DEFAULT_OUTBOUND.minInternalTargets, max_cv_packets: DEFAULT_OUTBOUND.maxCvPackets, max_cv_bytes: DEFAULT_OUTBOUND.maxCvBytes },
    allow_list: { file: allowFile, ids: [...allowIds].sort() },
    alerts: alerts.map(listed),
    suppressed_by_allow_list: suppressed.map(listed),
    hosts: hosts.map((h) => ({
      name: h.info.name,
      kind: h.info.kind,
      role: h.info.role,
      cloud: h.info.cloud,
      account: h.info.account,
      region: h.info.region,
      src: h.info.src,
      interface: h.info.iface || null,
      instance: h.info.instance || null,
      allow_listed: h.info.allowListed,
      description: h.info.description,
      alerts: alerts.filter((g) => g.entity === h.info.index).length,
    })),
    not_alerts: hosts
      .filter((h) => h.info.role === 'outbound_negative')
      .map((h) => ({
        host: h.info.name,
        cloud: h.info.cloud,
        account: h.info.account,
        src: h.info.src,
        interface: h.info.iface || null,
        instance: h.info.instance || null,
        reason: h.info.reason,
        keys: made(h)?.horizontalKeys ?? 0,
        suppressed_by_allow_list: suppressed.filter((g) => g.entity === h.info.index).length,
        largest_horizontal: withFailed(made(h)?.largestHorizontal ?? null),
        largest_vertical: withFailed(made(h)?.largestVertical ?? null),
      })),
  };
  return { section, alerts: alerts.length, warnings };
}
