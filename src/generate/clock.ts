/** Time formatting for the generated files (all UTC). Per-minute prefixes are cached: formatting is on the record path. */

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

export interface UtcParts {
  yyyy: string;
  mm: string;
  dd: string;
  hh: string;
  mi: string;
}

export function utcParts(unixSeconds: number): UtcParts {
  const d = new Date(unixSeconds * 1000);
  return {
    yyyy: String(d.getUTCFullYear()),
    mm: pad2(d.getUTCMonth() + 1),
    dd: pad2(d.getUTCDate()),
    hh: pad2(d.getUTCHours()),
    mi: pad2(d.getUTCMinutes()),
  };
}

/** 'YYYY-MM-DDTHH:MM:SSZ' */
export function isoSeconds(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Midnight UTC of a 'YYYY-MM-DD' date, in Unix seconds. */
export function parseDay(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) throw new Error(`bad date '${text}' (expected YYYY-MM-DD)`);
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (!Number.isFinite(t) || new Date(t).getUTCDate() !== Number(m[3])) throw new Error(`bad date '${text}'`);
  return t / 1000;
}

/**
 * 'YYYY-MM-DDTHH:MM:SS' + fraction + 'Z' for one second and a fraction given as a digit
 * string (7 digits for Azure, 9 for GCP). The 'YYYY-MM-DDTHH:MM:' prefix is cached per minute.
 */
export class TimeText {
  private minute = -1;
  private prefix = '';

  at(unixSeconds: number, fraction: string): string {
    const m = Math.floor(unixSeconds / 60);
    if (m !== this.minute) {
      this.minute = m;
      this.prefix = new Date(m * 60000).toISOString().slice(0, 17);
    }
    return `${this.prefix}${pad2(unixSeconds - m * 60)}.${fraction}Z`;
  }
}

/** A zero-padded fraction of `digits` digits from a random 32-bit value. */
export function fractionDigits(r: number, digits: number): string {
  const s = String(r % 10 ** Math.min(digits, 9)).padStart(Math.min(digits, 9), '0');
  return digits > 9 ? s + '0'.repeat(digits - 9) : s;
}
