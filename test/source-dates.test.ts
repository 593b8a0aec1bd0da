/** --from/--to parsing, the dates the clouds' key layouts name, and account/region from keys. */
import { describe, expect, it } from 'vitest';
import { parseTimeBound, spanOfKey, mayOverlap, timeRangeOf } from '../dist/src/source/dates.js';
import { keyInfo } from '../dist/src/input/key-info.js';
import { parseSourceUrl, isSourceUrl } from '../dist/src/source/url.js';

const T = (y: number, m: number, d: number, h = 0) => Date.UTC(y, m - 1, d, h) / 1000;

describe('--from / --to', () => {
  it('take days, hours and times; a day or hour given to --to is included whole', () => {
    expect(parseTimeBound('2024-03-01', '--from', false)).toBe(T(2024, 3, 1));
    expect(parseTimeBound('2024-03-01', '--to', true)).toBe(T(2024, 3, 2));
    expect(parseTimeBound('2024-03-01T06', '--to', true)).toBe(T(2024, 3, 1, 7));
    expect(parseTimeBound('2024-03-01T06:30:00Z', '--from', false)).toBe(T(2024, 3, 1, 6) + 1800);
    expect(parseTimeBound('2024-03-01T06:30+01:00', '--from', false)).toBe(T(2024, 3, 1, 5) + 1800);
    expect(() => parseTimeBound('yesterday', '--from', false)).toThrow(/--from yesterday: expected a UTC day/);
    expect(() => timeRangeOf('2024-03-02', '2024-03-01')).toThrow(/is not after/);
    expect(timeRangeOf(undefined, undefined)).toBeUndefined();
  });
});

describe('dates in key layouts', () => {
  it('AWS, Hive, Azure (the minute m= is not a month), GCP, Security Lake', () => {
    expect(spanOfKey('AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/01/x.log.gz')).toEqual({ from: T(2024, 3, 1), to: T(2024, 3, 2) });
    expect(spanOfKey('AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/')).toEqual({ from: T(2024, 3, 1), to: T(2024, 4, 1) });
    expect(spanOfKey('AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=x/year=2024/month=03/day=01/hour=05/a.parquet')).toEqual({ from: T(2024, 3, 1, 5), to: T(2024, 3, 1, 6) });
    expect(spanOfKey('resourceId=/SUBSCRIPTIONS/X/y=2024/m=03/d=01/h=23/m=00/macAddress=1/PT1H.json')).toEqual({ from: T(2024, 3, 1, 23), to: T(2024, 3, 2) });
    expect(spanOfKey('compute.googleapis.com/vpc_flows/2024/12/31/00:00:00_00:59:59_S0.json')).toEqual({ from: T(2024, 12, 31), to: T(2025, 1, 1) });
    expect(spanOfKey('ext/VPC/region=us-east-1/accountId=123456789012/eventDay=20240301/a.parquet')).toEqual({ from: T(2024, 3, 1), to: T(2024, 3, 2) });
    expect(spanOfKey('logs/flow.log.gz')).toBeNull();
    const day2 = { from: T(2024, 3, 2), to: T(2024, 3, 3) };
    expect(mayOverlap('a/2024/03/01/', day2)).toBe(false);
    expect(mayOverlap('a/2024/03/', day2)).toBe(true);
    expect(mayOverlap('a/undated/', day2)).toBe(true);
  });

  it('account and region from keys of every cloud that names them', () => {
    expect(keyInfo('AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/03/01/x.log.gz')).toEqual({ account: '123456789012', region: 'eu-west-1' });
    expect(keyInfo('flowLogResourceID=/SUBSCRIPTIONS/DAF0655C-B0F4-42BB-A14A-49D90C6F8A65/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_WESTEUROPE/FLOWLOGS/F/y=2024/PT1H.json'))
      .toEqual({ account: 'daf0655c-b0f4-42bb-a14a-49d90c6f8a65', region: 'westeurope' });
    expect(keyInfo('ext/VPC/region=us-east-1/accountId=123456789012/eventDay=20240301/a.parquet')).toEqual({ account: '123456789012', region: 'us-east-1' });
    expect(keyInfo('some/where/x.json')).toEqual({});
  });
});

describe('input URLs', () => {
  it('s3://, az://, the Azure https form with a SAS, gs://; other paths are local', () => {
    expect(parseSourceUrl('s3://b/AWSLogs/')).toMatchObject({ scheme: 's3', bucket: 'b', prefix: 'AWSLogs/' });
    expect(parseSourceUrl('az://acct/insights-logs-flowlogflowevent')).toMatchObject({ scheme: 'az', account: 'acct', bucket: 'insights-logs-flowlogflowevent', prefix: '' });
    expect(parseSourceUrl('gs://b')).toMatchObject({ scheme: 'gs', bucket: 'b', prefix: '' });
    expect(() => parseSourceUrl('az://acct')).toThrow(/expected az:\/\/ACCOUNT\/CONTAINER/);
    expect(isSourceUrl('https://example.com/x')).toBe(false);
    expect(isSourceUrl('./s3:/x')).toBe(false);
  });
});
