/** Retries with exponential backoff for object-store requests. */

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** Errors not worth another try: the object or bucket is missing, or access is denied. */
export function isPermanent(err: unknown): boolean {
  const e = err as { name?: string; code?: string | number; statusCode?: number; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ?? e.statusCode ?? (typeof e.code === 'number' ? e.code : undefined);
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) return true;
  return ['NoSuchKey', 'NoSuchBucket', 'AccessDenied', 'NotFound', 'BlobNotFound', 'ContainerNotFound', 'AuthorizationFailure'].includes(String(e.name ?? e.code));
}

/** A short reason from an SDK error: its code or name, HTTP status, and message. */
export function errorReason(err: unknown): string {
  const e = err as { name?: string; code?: string | number; message?: string; statusCode?: number; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ?? e.statusCode;
  const code = e.code !== undefined && typeof e.code === 'string' ? e.code : e.name && e.name !== 'Error' ? e.name : '';
  const msg = (e.message ?? String(err)).split('\n')[0]!.slice(0, 200);
  return [code, status ? `HTTP ${status}` : '', msg && msg !== code ? msg : ''].filter(Boolean).join(': ');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Run `fn` until it succeeds, a permanent error, or the last attempt; the error thrown names `what`. */
export async function withRetry<T>(what: string, policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (isPermanent(err) || attempt >= policy.attempts) {
        throw new Error(`${what}: ${errorReason(err)}${attempt > 1 ? ` (after ${attempt} tries)` : ''}`);
      }
      await sleep(policy.backoffMs * 2 ** (attempt - 1));
    }
  }
}
