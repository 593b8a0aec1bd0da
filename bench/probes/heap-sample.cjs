// Every JavaScript allocation of a run by function, those collected since included (V8's sampling heap
// profiler with includeObjectsCollectedByMajorGC/MinorGC: --heap-prof keeps only what is live at the end), written
// as a heap profile at exit; sums by function (self, and inclusive) printed by the python below.
//   HEAP_SAMPLE_OUT=/tmp/hs.json node --require ./bench/probes/heap-sample.cjs dist/src/cli/main.js detect DIR --out /tmp/x --quiet --no-enrich
//   python3 -c "import json,collections as C; p=json.load(open('/tmp/hs.json')); ..." (see bench/RESULTS.md, session 22 azure)
'use strict';
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const session = new inspector.Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
process.on('exit', () => {
  session.post('HeapProfiler.stopSampling', (err, r) => {
    if (!err) writeFileSync(process.env.HEAP_SAMPLE_OUT ?? 'heap-sample.json', JSON.stringify(r.profile));
  });
});
