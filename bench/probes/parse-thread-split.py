#!/usr/bin/env python3
"""The parse thread's CPU split by stage, from perf's samples of one detect run (one worker):
   perf record -F 2000 -g -o P.data -- node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --workers 1 --quiet --no-enrich
   perf script -i P.data > P.txt && python3 bench/probes/parse-thread-split.py P.txt [TID] [MS_A_SAMPLE=0.5] [-v]
The parse thread is the thread with the most samples in parse.bundle.cjs (or TID). A sample goes to
GC or start-up when any frame says so, else to the stage of its frame nearest the leaf that names
one (a page fault under copyRun is copyRun's). --perf-basic-prof names the JIT's and the modules'
code (wasm-function[N]); writing its map costs a few per cent, counted under "other" (-v lists it)."""
import sys, re, collections

text = open(sys.argv[1], errors='replace').read()
args = [a for a in sys.argv[2:] if a != '-v']
samples = []
for s in text.split('\n\n'):
    lines = [l for l in s.strip().split('\n') if l.strip()]
    if not lines: continue
    m = re.match(r'\s*(.+?)\s+(\d+)(?:/(\d+))?\s', lines[0])
    if not m: continue
    frames = [re.sub(r'\+0x[0-9a-f]+', '', re.sub(r'^\s*[0-9a-f]+\s+', '', l).strip()) for l in lines[1:]]
    samples.append((m.group(3) or m.group(2), frames))
parse = collections.Counter(t for t, fr in samples if any('parse.bundle' in f for f in fr))
tid = args[0] if args and args[0] else parse.most_common(1)[0][0]
ms = float(args[1]) if len(args) > 1 else 0.5
WHOLE = [
    ('gc', ['Heap::', 'Scavenge', 'MarkCompact', 'GCTracer', 'Sweeper', 'ConcurrentMarking', 'IncrementalMarking']),
    ('start-up: worker bootstrap, code cache, compiles', ['Deserializer', 'Bootstrapper', 'Parser::', 'BytecodeGenerator', 'Compiler::Compile', 'CodeSerializer', 'compileForInternalLoader', 'wrapSafe', 'WasmEngine::SyncCompile', 'wasm::Compile', 'Isolate::Init', 'CreateEnvironment', 'RunBootstrapping', 'Snapshot::']),
]
NEAREST = [
    ('module parse (WebAssembly)', [r'wasm-function']),
    ('inflate in the thread', [r'deflate_decompress', r'libdeflate', r'gunzipNative', r'inflate\.node']),
    ('copy routed: copyIds', [r'copyIds', r' intern ', r'remapped']),
    ('copy routed: copyRun', [r'copyRun', r'copySmallRun', r'copyRouted', r'endRouted', r'relaxed_memmove']),
    ('hand-off: post batch, ring slot', [r'postBatch', r'postMessage', r'takeRingSlot', r'takeSlot', r'flushShard', r'flushAll', r'batchTransferList', r'ValueSerializer', r'batchOver']),
    ('read: open, read, close', [r'readSync', r'openSync', r'closeSync', r'fstatSync', r'statSync', r'readFileSync', r'__libc_read', r'__libc_pread', r'__open', r'libc_open', r'do_sys_open', r'do_filp_open', r'__x64_sys_close', r'readGzipFile', r'smallGzip', r'fileBuffer']),
    ('JS around the module (block copy, rows, new ids)', [r'parseLinesWasm', r'emitRows', r'idOfBytes', r'lookUp', r'prepare', r'settings', r'addCounts', r'JS:[*^~]read ', r'feedWhole', r'JS:[*^~]push ', r'readInflatedLines', r'readLinesInto', r'parseLines']),
    ('per-file JS (plan, sniff, results)', [r'fileStart', r'fileResults', r'fileEnd', r'planFromText', r'parseFileInto', r'awsPathInfo', r'sniff', r'parseInto', r'takeCounters', r'packFiles', r'parseEachFile', r'inflateNext', r'inflateAhead', r'giveInflated', r'readInto', r'parseTask', r'parseChunk', r'JS:[*^~]open ']),
]
res, other, n = collections.Counter(), collections.Counter(), 0
for t, fr in samples:
    if t != tid: continue
    n += 1
    joined = ' '.join(fr)
    stage = next((name for name, keys in WHOLE if any(k in joined for k in keys)), None)
    for f in fr if stage is None else []:
        stage = next((name for name, pats in NEAREST if any(re.search(p, f + ' ') for p in pats)), None)
        if stage: break
    if stage is None:
        stage = 'other'
        other[' < '.join(x[:50] for x in fr[:3])] += 1
    res[stage] += 1
print(f'parse thread {tid}: {n * ms:.1f} ms')
for stage, v in res.most_common(): print(f'{v * ms:7.1f} ms {100 * v / n:5.1f} %  {stage}')
if '-v' in sys.argv:
    for k, v in other.most_common(25): print(f'   {v * ms:6.1f} {k}')
