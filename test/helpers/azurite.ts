/** Azurite's blob service (npm azurite) on loopback, in memory, for the az:// input tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { freePort, waitReady } from './loopback-process.js';

const require = createRequire(import.meta.url);
const BLOB_MAIN = require.resolve('azurite/dist/src/blob/main.js');
/** Azurite's well-known development account (public, in Azure's emulator docs). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  connectionString: string;
  stop(): Promise<void>;
}

export async function startAzurite(workspace: string): Promise<Azurite> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [BLOB_MAIN, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--inMemoryPersistence', '--disableTelemetry', '--skipApiVersionCheck', '--loose', '--silent'],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: workspace },
  );
  await waitReady(child, { name: 'azurite', ready: (out) => out.includes('successfully listens'), timeoutMs: 30_000, stderr: true });
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
