/**
 * The sniffers' head (formats/sniff.ts Head): its first character read from the bytes gives
 * what the decoded first line gives, and a JSON blob's head is sniffed without decoding its
 * 64 KiB (issue 19, target 4: that decoding was a fifth of an Azure blob's planning).
 */
import { describe, expect, it } from 'vitest';
import { Head, headText, firstNonBlankLine, sniffHead } from '../dist/src/formats/sniff.js';

const bytes = (text: string) => new Uint8Array(Buffer.from(text));
const leadOfText = (b: Uint8Array) => {
  const line = firstNonBlankLine(headText(b));
  return line.length > 0 ? line.charCodeAt(0) : -1;
};

/** A head whose text getter counts its calls (the firstLine getter goes through it too). */
function countingHead(b: Uint8Array): { head: Head; decoded: () => number } {
  const head = new Head(b);
  let n = 0;
  Object.defineProperty(head, 'text', { get: () => (n++, headText(b)) });
  return { head, decoded: () => n };
}

const NSG_BLOB = JSON.stringify({
  records: [
    {
      time: '2024-03-01T02:06:30Z',
      category: 'NetworkSecurityGroupFlowEvent',
      properties: { Version: 2, flows: [{ rule: 'r', flows: [{ mac: '000D3A000001', flowTuples: ['1709258762,46.29.115.251,10.2.0.5,9384,3306,T,I,D,B,,,,'] }] }] },
    },
  ],
});

describe('the sniffers head', () => {
  it('reads the first character of the first non-blank line as the decoded text gives it', () => {
    const cases = [
      '', ' ', '\n\n\t \r\n', '{"a":1}', '\n  \t{"a":1}', '[1]', ' \u000b\u000c[1]', 'version account-id', '2 123 eni',
      '\u00a0{"a":1}', '\ufeff{"a":1}', '\u2028\n{', 'é{', '\u001c{', '\u0000x', '\r\n\r\nx y', ' '.repeat(70000) + '{',
      '\n'.repeat(65536), `${'\n'.repeat(65535)}x`, '\u3000 #fields\tts',
    ];
    for (const text of cases) {
      const b = bytes(text).subarray(0, 65536);
      expect(new Head(b).lead, JSON.stringify(text.slice(0, 20))).toBe(leadOfText(b));
      expect(new Head(b).firstLine).toBe(firstNonBlankLine(headText(b)));
    }
    expect(new Head(bytes('ignored'), ' {x', '{x').lead).toBe(123); // a given line decides
  });

  it('sniffs an Azure blob from its bytes, without decoding its head', () => {
    for (const [text, format] of [[NSG_BLOB, 'azure-nsg'], [`\n ${NSG_BLOB.replace('NetworkSecurityGroupFlowEvent', 'FlowLogFlowEvent')}`, 'azure-vnet']] as const) {
      const { head, decoded } = countingHead(bytes(text));
      expect(sniffHead(head)).toBe(format);
      expect(decoded()).toBe(0);
    }
  });

  it('decodes the head where a sniffer needs its text, and gives the same format as before', () => {
    const gcp = '{"insertId":"x","jsonPayload":{"connection":{"src_ip":"10.0.0.1"}},"logName":"projects/p/logs/compute.googleapis.com%2Fvpc_flows"}\n';
    const { head, decoded } = countingHead(bytes(gcp));
    expect(sniffHead(head)).toBe('gcp');
    expect(decoded()).toBeGreaterThan(0);
    expect(sniffHead(new Head(bytes('\n\n  \n')))).toBeNull();
  });
});
