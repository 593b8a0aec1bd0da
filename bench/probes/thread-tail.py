import os, sys, time, subprocess
#    python3 bench/probes/thread-tail.py node dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich   (at --workers 1: the last two threads are parse, shard)
# times (ms from start) at which the parse thread and the shard thread were last seen running, and the exit
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t0 = time.time(); last = {}; val = {}; order = []
while p.poll() is None:
    try: tasks = os.listdir(f'/proc/{p.pid}/task')
    except OSError: break
    now = (time.time() - t0) * 1000
    for t in tasks:
        try: v = int(open(f'/proc/{p.pid}/task/{t}/schedstat').read().split()[0])
        except Exception: continue
        if t not in val: order.append(t)
        if v != val.get(t): val[t] = v; last[t] = now
    time.sleep(0.003)
end = (time.time() - t0) * 1000
ts = sorted(order, key=int)
parse, shard = ts[-2], ts[-1]
print(f'parse_end {last[parse]:.0f} shard_end {last[shard]:.0f} tail {last[shard]-last[parse]:.0f} exit {end:.0f}')
