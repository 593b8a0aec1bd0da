/** The one parser of every size option (--max-memory, --max-decompressed-bytes, --batch-bytes...). */

/** A size in bytes (throws an Error saying what is wrong; the option parser makes it a usage error) from "123", "64K", "512M", "100MB", "2GiB" or "1T" (powers of 1024). */
export function parseSize(text: string, option?: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?$/i.exec(text.trim());
  if (!m) throw new Error(`${option ? `--${option}: ` : ''}bad size '${text}' (expected bytes or e.g. 64K, 512M, 2G)`);
  const unit = (m[2] ?? 'B')[0]!.toUpperCase();
  const mult = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[unit]!;
  return Math.floor(Number(m[1]) * mult);
}
