/**
 * A server process on loopback for the tests (Azurite, redis-server): a free port to give
 * it, and a wait until its output says it listens.
 */
import { type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 now (the kernel's pick, closed again at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once `ready` holds for what `child` has written to stdout (and, with
 * `stderr`, to stderr) so far; rejects with that output if it exits first or takes longer
 * than `timeoutMs`. Its 'exit' listeners are removed once it is ready.
 */
export async function waitReady(
  child: ChildProcess,
  o: { name: string; ready: (out: string) => boolean; timeoutMs: number; stderr?: boolean },
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${o.name} did not start:\n${out}`)), o.timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (o.ready(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    if (o.stderr) child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${o.name} exited with ${code}:\n${out}`));
    });
  });
  child.removeAllListeners('exit');
}
