/**
 * The shards' table sizes from the input's bytes (engine/run.ts tableHints): GCP NDJSON's ~1 KB
 * LogEntry lines size the inbound table per record, not per AWS-sized line; the outbound table
 * keeps the size the bytes give it (GCP's outbound share is large).
 */
import { describe, expect, it } from 'vitest';
import { tableHints } from '../src/engine/run.js';
import type { InputFile } from '../src/input/plan.js';
import type { FormatName } from '../src/formats/types.js';

function file(size: number, format: FormatName | null, gzip = false, error?: string): InputFile {
  return { path: `/in/f${size}${gzip ? '.gz' : ''}`, display: 'f', size, gzip, format, account: '', region: '', error };
}

describe('tableHints', () => {
  it('counts AWS text at one entry per 250 bytes, gzip at five times its bytes, split over the shards', () => {
    expect(tableHints([file(2_500_000, 'aws-text')], 1)).toEqual({ inbound: 10_000, outbound: 10_000 });
    expect(tableHints([file(1_000_000, 'aws-text', true)], 2)).toEqual({ inbound: 10_000, outbound: 10_000 });
    expect(tableHints([file(1_000_000, 'aws-text', false, 'unreadable')], 1)).toEqual({ inbound: 0, outbound: 0 });
  });

  it('sizes the inbound table for GCP NDJSON per record, the outbound one by its bytes', () => {
    const gcp = tableHints([file(400_000_000, 'gcp')], 1);
    expect(gcp.outbound).toBe(1_600_000);
    expect(gcp.inbound).toBe(176_000); // ~1 KB a LogEntry against ~112 bytes an AWS line
    // mixed with AWS text: each file counts as its format does
    expect(tableHints([file(400_000_000, 'gcp'), file(2_500_000, 'aws-text')], 1)).toEqual({ inbound: 186_000, outbound: 1_610_000 });
  });
});
