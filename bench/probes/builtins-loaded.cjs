// Which of Node's built-in modules a command loads after Node's own bootstrap (a preload: the
// list at the preload's start is the bootstrap's), printed at exit to stderr: their count and
// names. With WHO=name (e.g. WHO=worker_threads), also the stack of the first require() of it
// from a module (not a built-in's own require). Each built-in costs its compile on the main
// thread: worker_threads brings ~25 stream modules, the `performance` global perf_hooks' nine
// (~1.5 and ~2 ms of CPU on the AMD host; bench/RESULTS.md, session 24 azure3).
//   node -r ./bench/probes/builtins-loaded.cjs dist/src/cli/main.cjs detect IN --out D --quiet --no-enrich
const before = new Set(process.moduleLoadList);
process.on('exit', () => {
  const loaded = process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13));
  process._rawDebug(`${loaded.length} built-in modules after the bootstrap: ${loaded.join(' ')}`);
});
const who = process.env.WHO;
if (who) {
  const Module = require('node:module');
  const load = Module._load;
  Module._load = function (request, ...rest) {
    if (request === who || request === `node:${who}`) {
      Module._load = load;
      process._rawDebug(`${request} first required:\n${new Error().stack.split('\n').slice(2, 9).join('\n')}`);
    }
    return load.call(this, request, ...rest);
  };
}
