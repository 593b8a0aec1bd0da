/**
 * A real redis-server for the scale-out tests: on a free loopback port, with its data in
 * a temporary folder and persistence on (append-only file, fsync on every write), so it
 * can be killed and started again on the same data. Never the system service.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitReady } from './loopback-process.js';

export const HAVE_REDIS = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;

export class TestRedis {
  private proc: ChildProcess | null = null;
  port = 0;

  constructor(private readonly dir: string) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const proc = spawn(
      'redis-server',
      [
        '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always',
        '--save', '', '--daemonize', 'no', '--logfile', '', '--protected-mode', 'yes',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = proc;
    await waitReady(proc, { name: 'redis-server', ready: (log) => /Ready to accept connections/.test(log), timeoutMs: 15000 });
  }

  /** Start again with no data: a Redis that lost everything (no persistence, a new machine). */
  async startEmpty(): Promise<void> {
    for (const name of readdirSync(this.dir)) rmSync(join(this.dir, name), { recursive: true, force: true });
    await this.start();
  }

  /** SIGKILL: no shutdown save; what survives is what the append-only file holds. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(sig);
    await exited;
    this.proc = null;
  }
}
