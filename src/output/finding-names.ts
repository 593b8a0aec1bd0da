/**
 * The findings formats' names, apart from their writers (findings.ts, which loads node:crypto
 * for the findings' ids): every command's option rules and detect's `--findings` check read
 * the names, and a run loads the writers only when it writes findings.
 */
export const FINDING_FORMATS = ['ocsf', 'ecs'] as const;
export type FindingFormat = (typeof FINDING_FORMATS)[number];
