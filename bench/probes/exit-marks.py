#!/usr/bin/env python3
"""Where a process's start and end go, in wall ms from its spawn: Node's own start (the first
preloaded line), the 'exit' event, and the process gone (wait returns). A preload writes
performance.now() and performance.timeOrigin at the exit event; this script aligns them with
its own clock. Each round a line, then the medians (session 17, boot).
   python3 bench/probes/exit-marks.py ROUNDS node dist/src/cli/main.cjs detect IN --out D --quiet
"""
import json, os, statistics, subprocess, sys, tempfile, time

PRELOAD = """const { performance } = require('perf_hooks');
const t = [['preload', performance.now()]];
process.on('exit', () => { t.push(['exit', performance.now()]); process._rawDebug(JSON.stringify({ marks: t, origin: performance.timeOrigin })); });
"""
rounds, cmd = int(sys.argv[1]), sys.argv[2:]
with tempfile.NamedTemporaryFile('w', suffix='.cjs', delete=False) as f:
    f.write(PRELOAD)
env = dict(os.environ, NODE_OPTIONS=f'-r {f.name}')
rows = []
for _ in range(rounds):
    t0 = time.time() * 1000
    p = subprocess.run(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
    t1 = time.time() * 1000
    d = json.loads([l for l in p.stderr.decode().splitlines() if l.startswith('{"marks"')][-1])
    r = {'node started': d['origin'] - t0, **{k: v for k, v in d['marks']}, 'gone': t1 - d['origin']}
    rows.append(r)
    print('  '.join(f'{k} {v:.1f}' for k, v in r.items()))
os.unlink(f.name)
print('medians: ' + '  '.join(f'{k} {statistics.median(r[k] for r in rows):.1f}' for k in rows[0]))
