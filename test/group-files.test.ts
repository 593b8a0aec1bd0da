/** The files of a 'files' task, packed for the parse thread, come back as they went in. */
import { describe, expect, it } from 'vitest';
import { packGroup, unpackGroup } from '../dist/src/engine/group-files.js';

const FIELDS = ['version', 'srcaddr', 'dstaddr'];

function file(i: number, over: Record<string, unknown> = {}): any {
  const path = `AWSLogs/1111/vpcflowlogs/eu-west-1/f${i}.log.gz`;
  return {
    fileIndex: i * 3, path, display: path, format: 'aws-text', gzip: true, size: 600 + i, account: '1111', region: 'eu-west-1',
    awsFields: undefined, headerLine: undefined, headUnchecked: true, sniffInThread: true, notAfter: 1718086400 + i, ...over,
  };
}

describe('packed group files', () => {
  it('round-trip every field, undefined and false kept apart, shared field lists shared', () => {
    const files = [
      file(0),
      file(1, { display: 's3://bucket/a\nb.gz', path: '/tmp/x y\n\u00e9\u{1f642}', gzip: false, headUnchecked: false, sniffInThread: undefined }),
      file(2, { format: 'azure-nsg', account: '', region: '', awsFields: FIELDS, headerLine: 'version srcaddr dstaddr', notAfter: 0, size: 2 ** 40 }),
      file(3, { awsFields: FIELDS, headUnchecked: undefined, notAfter: Infinity }),
      file(4, { awsFields: [...FIELDS], account: 'eu-west-1', path: '' }),
    ];
    const back = unpackGroup(structuredClone(packGroup(files)));
    expect(back).toEqual(files);
    for (const f of back) expect(Object.keys(f).sort()).toEqual(Object.keys(files[0]).sort()); // undefined fields present: they override the task's
    expect(back[2].awsFields).toBe(back[3].awsFields);
    expect(back[1].sniffInThread).toBeUndefined();
    expect(back[1].headUnchecked).toBe(false);
    expect(unpackGroup(packGroup([]))).toEqual([]);
  });
});
