/**
 * ground-truth.json: every planted scan key (under each profile) with the features the
 * engine must report, every hard negative with what it would take for it to be flagged,
 * and the planted keys that came close but are not scans (e.g. a slow scanner's window
 * halves). A hard negative that turned out to be a scan is a bug in the scenario: the
 * run fails rather than write a wrong truth.
 */
import type { Entity } from './entities.js';
import type { Plan } from './plan.js';
import { PROFILE_THRESHOLDS, type TruthKey, type TruthTracker } from './truth.js';
import type { GenerateOptions } from './index.js';
import { isoSeconds } from './clock.js';

/** Keys of planted scanners with at least this many endpoints are listed even when not scans. */
const NOTABLE_ENDPOINTS = 5;

type PublicKey = Omit<TruthKey, 'entity' | 'window' | 'srcWords' | 'failed'> & { entity: string; failed?: string[] };

function publicKey(k: TruthKey, entities: Entity[], withFailed: boolean): PublicKey {
  const { entity, window: _w, srcWords: _s, failed, ...rest } = k;
  return { ...rest, entity: entities[entity]!.info.name, ...(withFailed ? { failed } : {}) };
}

export function groundTruth(
  tracker: TruthTracker,
  entities: Entity[],
  plan: Plan,
  o: GenerateOptions,
  counts: { records: Record<string, number>; totalRecords: number },
): { document: Record<string, unknown>; scanKeys: Record<string, number> } {
  const keys = tracker.results();
  const profiles = Object.keys(PROFILE_THRESHOLDS);
  const scanKeys = Object.fromEntries(profiles.map((p) => [p, keys.filter((k) => k.profiles.includes(p)).length]));

  const negatives = entities.filter((e) => e.info.role === 'hard_negative');
  for (const e of negatives) {
    const bad = keys.find((k) => k.entity === e.info.index && k.profiles.length > 0);
    if (bad) throw new Error(`scenario bug: hard negative '${e.info.name}' is a scan (${JSON.stringify(publicKey(bad, entities, true))})`);
  }
  const warnings = entities
    .filter((e) => e.info.role === 'scanner' && !keys.some((k) => k.entity === e.info.index && k.profiles.includes('default')))
    .filter((e) => e.info.name !== 'slow-redis' && !(e.info.kind === 'cross-cloud' && o.clouds.length < 3)) // by design
    .map((e) => `scanner '${e.info.name}' has no scan key in this sample: in no ${o.windowSeconds} s window do its probes meet the default thresholds`);

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
      (o.clouds.includes('azure') ? ' --region-map DIR/region-map.json' : '') +
      ' [--profile multi-cloud]: scans.ndjson must hold exactly the keys of `scanners` whose `profiles` name the profile used',
    profiles: PROFILE_THRESHOLDS,
    records: { ...counts.records, total: counts.totalRecords, planted: tracker.written, planted_inbound: tracker.inbound },
    estate: {
      streams: plan.streams.map((s) => ({ cloud: s.cloud, kind: s.kind, account: s.account, region: s.region, endpoints: s.endpoints.length })),
      endpoints: plan.endpoints.length,
    },
    scan_keys: scanKeys,
    scanners: keys.filter((k) => k.profiles.length > 0).map((k) => publicKey(k, entities, false)),
    not_scans: keys
      .filter((k) => k.profiles.length === 0 && k.endpoints >= NOTABLE_ENDPOINTS && entities[k.entity]!.info.role === 'scanner')
      .map((k) => publicKey(k, entities, true)),
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
        largest_key: largest ? publicKey(largest, entities, true) : null,
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
    warnings,
  };
  return { document, scanKeys };
}
