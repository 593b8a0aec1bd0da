/**
 * planFromText keeps the plan of each first line it sees (a bucket repeats a few header
 * lines): a file must get the plan it gets with nothing kept, whatever came before it.
 */
import { describe, expect, it } from 'vitest';
import { forgetPlannedLines, planFromBytes, planFromText } from '../dist/src/input/plan.js';

const V2_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const CUSTOM = 'version vpc-id account-id srcaddr dstaddr srcport dstport protocol bytes packets start end action';
const v2 = (n: number) => `2 123456789012 eni-0a1b2c3d 45.9.1.${n} 10.0.0.${n} 40000 22 6 1 40 1718000000 1718000030 REJECT OK`;

/** First lines that decide alone, and some that do not (blank, no AWS line), each with several rests. */
const FIRSTS = [V2_HEADER, `${V2_HEADER}\r`, CUSTOM, v2(1), '   ', '\xa0', '\t', '{"records": []}', 'not a flow log', `${'x'.repeat(5000)}`, ''];
const RESTS = [[v2(2), v2(3)], [CUSTOM, v2(4)], [V2_HEADER], ['', ''], ['garbage line']];

describe('planFromText', () => {
  it('gives each text the plan it gets with nothing kept', () => {
    const texts = FIRSTS.flatMap((f) => RESTS.map((r) => Buffer.from([f, ...r].join('\n') + '\n', 'latin1')));
    const fields = [undefined, CUSTOM.split(' ')];
    const fresh = texts.flatMap((t) => fields.map((awsFields) => (forgetPlannedLines(), planFromText(t, 'a.log.gz', { awsFields }))));
    forgetPlannedLines();
    for (let round = 0; round < 2; round++) {
      // every order of first lines, each text after others that share its first line
      const kept = texts.flatMap((t) => fields.map((awsFields) => planFromText(t, 'a.log.gz', { awsFields })));
      expect(kept).toEqual(fresh);
    }
    expect(fresh.filter((p) => p !== null).length).toBeGreaterThan(10);
    expect(fresh.filter((p) => p === null).length).toBeGreaterThan(10);
  });

  it('keeps a copy of a header line: a reused buffer that now holds another header is planned by that one', () => {
    // the same length, another layout: a kept view of the buffer would match the new bytes with the old plan
    const swapped = V2_HEADER.replace('srcport dstport', 'dstport srcport');
    const text = (header: string) => Buffer.from(`${header}\n${v2(5)}\n`, 'latin1');
    forgetPlannedLines();
    const fresh = planFromText(text(swapped), 'a.log.gz', {});
    forgetPlannedLines();
    const buf = text(V2_HEADER);
    const first = planFromText(buf, 'a.log.gz', {});
    text(swapped).copy(buf); // the thread's buffer serves the next file
    expect(planFromText(buf, 'a.log.gz', {})).toEqual(fresh);
    expect(fresh?.awsFields).not.toEqual(first?.awsFields);
  });

  it('plans a file whose first line is a record as planning its head does', () => {
    // planFromLine's quick answer for a first line that starts with a digit
    const firsts = [v2(1), `${v2(2)}\r`, `${v2(3)}\t`, v2(4).replace(/ /g, '\t'), `${v2(5)} extra`, '3 vpc-1 123456789012 1.2.3.4 5.6.7.8 1 2 6 40 1 1718000000 1718000030 ACCEPT', '2024-06-01 not a flow log', '2 123456789012', '1'];
    let planned = 0;
    for (const first of firsts) {
      for (const awsFields of [undefined, CUSTOM.split(' ')]) {
        const text = Buffer.from(`${first}\n${v2(9)}\n`, 'latin1');
        forgetPlannedLines();
        const quick = planFromText(text, 'a.log.gz', { awsFields });
        const head = planFromBytes('a.log', text, { awsFields });
        if (quick === null) continue;
        planned++;
        expect(head?.format).toBe('aws-text');
        expect(quick).toEqual({ awsFields: head!.awsFields, headerLine: head!.headerLine });
      }
    }
    expect(planned).toBeGreaterThanOrEqual(8);
  });
});
