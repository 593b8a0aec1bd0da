'use strict';
// How long a run's renames take on its main thread: a preload that times every fs.renameSync
// and prints the count and the total at exit (the outputs' renames into place; session 17 boot).
//   NODE_OPTIONS="-r $PWD/bench/probes/rename-time.cjs" node dist/src/cli/main.cjs detect IN --out D --quiet
// (the flag changes the V8 code cache's file name: run it twice, the first run writes its caches)
const fs = require('node:fs');
const renameSync = fs.renameSync;
let total = 0n;
let count = 0;
fs.renameSync = function (...args) {
  const t0 = process.hrtime.bigint();
  try {
    return renameSync.apply(this, args);
  } finally {
    total += process.hrtime.bigint() - t0;
    count++;
  }
};
process.on('exit', () => process._rawDebug(`renameSync: ${count} calls, ${(Number(total) / 1e6).toFixed(3)} ms`));
