#!/usr/bin/env python3
"""Where a run's CPU goes by thread and activity, from perf's samples:
   perf record -F 2000 -g -o P.data -- node dist/src/cli/main.js detect INPUT --quiet --no-enrich --out DIR
   perf script -i P.data > P.txt && python3 bench/probes/perf-threads.py P.txt 0.5   (ms a sample: 1000 / F)
Threads: main, V8's platform workers (TurboFan, concurrent GC), libuv's pool, each worker thread;
activities by the frames under a sample: optimising compiles, GC, parse and bytecode compiles,
Node's bootstrap, JIT code, the kernel, else the leaf's library."""
import sys, re, collections
period_ms = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
text = open(sys.argv[1], errors='replace').read()
samples = text.split('\n\n')
pid = None
roles = {}
res = collections.defaultdict(lambda: collections.Counter())
tops = collections.defaultdict(lambda: collections.Counter())
def role_of(tid, frames, pid):
    j = ' '.join(frames)
    if tid == pid: return 'main'
    if 'PlatformWorkerThread' in j: return 'v8-platform'
    if 'DelayedTaskScheduler' in j: return 'v8-delayed'
    if 'uv__threadpool' in j or 'worker (' in j or ' worker+' in j: return 'libuv'
    if 'node::worker::Worker' in j: return 'worker'
    return None
ACT = [
  ('teardown', ['Isolate::Deinit', 'Heap::TearDown', 'FreeEnvironment', 'Isolate::Delete', 'FreeIsolateData', '~Environment', 'Worker::Exit', 'DisposePlatform', 'NodeMainInstance::~', 'exit+', '__run_exit_handlers', 'RunAtExit']),
  ('gc-scavenge', ['Scavenge', 'ScavengerCollector']),
  ('gc-mark', ['MarkCompact', 'ConcurrentMarking', 'IncrementalMarking', 'MinorMark', 'Marking']),
  ('gc-sweep', ['Sweeper', 'Sweep']),
  ('gc-other', ['Heap::', 'GCTracer']),
  ('opt-compile', ['OptimizedCompilationJob', 'compiler::Pipeline', 'TurbofanCompilationJob', 'maglev::', 'OptimizingCompileDispatcher', 'Compiler::FinalizeTurbofan', 'compiler::']),
  ('wasm-compile', ['wasm::Compile', 'wasm::WasmEngine', 'wasm::AsyncCompile', 'wasm::Liftoff', 'wasm::Module', 'wasm::']),
  ('parse+bytecode', ['Parser::', 'BytecodeGenerator', 'interpreter::', 'Compiler::Compile', 'ParseInfo', 'Scanner::', 'PreParser', 'Compiler::GetSharedFunctionInfo', 'CodeSerializer', 'Compile']),
  ('deserialize/bootstrap', ['Deserializer', 'Snapshot::', 'Bootstrapper', 'CreateEnvironment', 'InitializeContext', 'RunBootstrapping', 'BootstrapRealm', 'Genesis']),
  ('dynamic-link', ['_dl_', 'ld-linux', 'do_lookup']),
]
for s in samples:
    lines = [l for l in s.strip().split('\n') if l.strip()]
    if not lines: continue
    m = re.match(r'\s*(\S+)\s+(\d+)(?:/(\d+))?\s', lines[0])
    if not m: continue
    if m.group(3): p, tid = m.group(2), m.group(3)
    else: p = tid = m.group(2)
    if pid is None: pid = tid
    frames = [l.strip().split(' ', 1)[1] if ' ' in l.strip() else l.strip() for l in lines[1:]]
    r = role_of(tid, frames, pid)
    if r: roles[tid] = r
    j = ' '.join(frames)
    act = None
    for name, keys in ACT:
        if any(k in j for k in keys): act = name; break
    if act is None:
        leaf = frames[0] if frames else ''
        if 'kallsyms' in leaf: act = 'kernel'
        elif 'wasm' in j or 'Wasm' in j: act = 'wasm?'
        elif 'unknown' in leaf or 'perf-' in leaf or 'JS:' in leaf or 'LazyCompile' in leaf or 'Builtin' in leaf: act = 'js/jit'
        else: act = 'native:' + (re.sub(r'\+0x[0-9a-f]+', '', leaf.split(' ')[1] if ' ' in leaf else leaf))[:40]
    res[tid][act] += 1
    tops[tid][frames[0][:80] if frames else '?'] += 1
byrole = collections.defaultdict(collections.Counter)
for tid, c in res.items():
    byrole[roles.get(tid, 'other') + (':' + tid if roles.get(tid) == 'worker' else '')].update(c)
tot = 0
for r, c in sorted(byrole.items(), key=lambda x: -sum(x[1].values())):
    n = sum(c.values()); tot += n
    print(f"{r:24s} {n*period_ms:7.1f} ms   " + ', '.join(f"{a} {v*period_ms:.0f}" for a, v in c.most_common(9) if v * period_ms >= 2))
print(f"total {tot*period_ms:.1f} ms")
