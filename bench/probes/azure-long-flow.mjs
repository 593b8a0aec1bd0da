// The Azure reader's module on one NSG record whose one flowTuples array holds N tuples: read
// (and how many records), or the error it stops with. Found by branch copyids (bench/RESULTS.md):
// past ~260-280 tuples the module fails with "table index is out of bounds" (main e79f195).
//   node bench/probes/azure-long-flow.mjs [N ...]
import { FlowSink } from '../../dist/src/flow/sink.js';
import { readerFor } from '../../dist/src/formats/registry.js';
import { setAzureReader } from '../../dist/src/formats/azure-wasm.js';

function blob(n) {
  const tuples = Array.from({ length: n }, (_, k) => `${1709258449 + k},47.${k % 120}.230.${k % 222},10.2.0.${k % 9},${4000 + (k % 900)},${k % 2 ? 443 : 22},T,I,D,B,,,,`);
  const record =
    '{"time":"2024-03-01T02:00:30Z","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/DAF0655C-B0F4-42BB-A14A-49D90C6F8A65/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG",' +
    `"properties":{"Version":2,"flows":[{"rule":"R","flows":[{"mac":"000D3A96D7E2","flowTuples":${JSON.stringify(tuples)}}]}]}}`;
  return Buffer.from(`{"records":[${record}]}`);
}

const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [100, 257, 280, 1000];
for (const kind of ['js', 'wasm']) {
  setAzureReader(kind);
  for (const n of sizes) {
    const sink = new FlowSink({ shards: 2, batchSize: 4096, maxRejectsKept: 10 }, () => {});
    try {
      readerFor('azure-nsg').parseDocument(blob(n), { sink, file: 'a', account: 'x', region: '' });
      console.log(kind, n, 'tuples: read,', sink.counters.records, 'records');
    } catch (err) {
      console.log(kind, n, 'tuples: FAILS:', err.message);
    }
  }
}
