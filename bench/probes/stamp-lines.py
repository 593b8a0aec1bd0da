#!/usr/bin/env python3
"""Wall-clock marks of one run, from a build instrumented by hand (session 22 gcpwarm):
   python3 bench/probes/stamp-lines.py node dist/src/cli/main.js detect DIR --out OUT --quiet
Runs the command and prints each line of its output that holds 'MARK ... at <epoch ms>' (what a
temporary `require('node:fs').writeSync(2, 'MARK what at ' + (performance.timeOrigin +
performance.now()).toFixed(1) + '\\n')` in any thread writes: synchronous, so a worker's line
is not held up behind the main thread's event loop as console.error's is) as ms from the
command's start, then the exit. V8's own traces (--trace-wasm-compilation-times) come through
stdio buffers and carry no time: their arrival time here is no time of theirs.
"""
import re, subprocess, sys, time

e0 = time.time() * 1000
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
for line in p.stdout:
    m = re.search(r'MARK .* at (\d+\.\d+)', line)
    if m: print(f"{float(m.group(1)) - e0:7.1f} ms  {line.strip()[:100]}")
p.wait()
print(f"{(time.monotonic() - t0) * 1000:7.1f} ms  exit (rc {p.returncode})")
