/** Domain constants shared by every reader, the engine and the outputs (detection.md §2). */

export const enum Cloud { aws = 0, azure = 1, gcp = 2, other = 3 }
export const CLOUD_NAMES = ['aws', 'azure', 'gcp', 'other'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export const enum Action { unknown = 0, accept = 1, reject = 2 }
export const ACTION_NAMES = ['unknown', 'accept', 'reject'] as const;

export const enum Direction { unknown = 0, ingress = 1, egress = 2 }
export const DIRECTION_NAMES = ['unknown', 'ingress', 'egress'] as const;

/** What a record feeds: bit flags, so one record can feed several detectors. */
export const enum Feed { none = 0, inbound = 1, outbound = 2 }

/** Why a record that is a flow did not feed inbound detection (counted in the summary). */
export const SKIP_REASONS = ['nodata', 'internal', 'response', 'backscatter', 'outside_partition'] as const;

export function cloudFromName(name: string): Cloud {
  const i = (CLOUD_NAMES as readonly string[]).indexOf(name);
  if (i < 0) throw new Error(`unknown cloud '${name}' (expected one of ${CLOUD_NAMES.join(', ')})`);
  return i as Cloud;
}
