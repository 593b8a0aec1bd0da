#!/usr/bin/env python3
"""CPU after the parse thread's last sample (the serial tail), by thread and innermost symbol, from
   perf record -e cpu-clock -F 4000 -g -o P.data node --perf-basic-prof dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich
   perf script -i P.data -F tid,time,ip,sym > P.txt && python3 bench/probes/perf-tail.py P.txt PARSE_TID [TOP]
(at --workers 1 the last two threads listed are the parse thread, then the shard: PARSE_TID is the one
before last; wasm functions show as wasm-function[N], N the index in `npx wasm-dis dist/wasm/MODULE.wasm`)."""
import sys,collections,re
f=sys.argv[1]; hz=4000
samples=[]  # (tid,time,frames)
cur=None
for line in open(f,errors='replace'):
    if not line.strip():
        if cur: samples.append(cur); cur=None
        continue
    if not line.startswith('\t') and not line.startswith(' '):
        parts=line.split()
        cur=(int(parts[0]),float(parts[1].rstrip(':')),[])
    else:
        s=line.strip().split(None,1)
        cur[2].append(s[1] if len(s)>1 else '?')
if cur: samples.append(cur)
tids=sorted(set(s[0] for s in samples))
first={};last={};cnt=collections.Counter()
for t,tm,fr in samples:
    first.setdefault(t,tm); last[t]=tm; cnt[t]+=1
pid=samples[0][0]
for t in tids: print(t, 'n=%d first %.3f last %.3f'%(cnt[t],first[t]-first[pid],last[t]-first[pid]))
# parse thread: given
parse=int(sys.argv[2]); cut=last[parse]
print('cut %.3f end %.3f'%(cut-first[pid], max(last.values())-first[pid]))
byt=collections.defaultdict(collections.Counter)
for t,tm,fr in samples:
    if tm<cut: continue
    sym=fr[0] if fr else '?'
    sym=re.sub(r'0x[0-9a-f]+','',sym)
    byt[t][sym]+=1
for t in sorted(byt, key=lambda t:-sum(byt[t].values())):
    tot=sum(byt[t].values())
    print('== tid',t,'%.1f ms'%(tot*1000/hz))
    for k,v in byt[t].most_common(int(sys.argv[3]) if len(sys.argv)>3 else 20): print('%7.1f %s'%(v*1000/hz,k[:110]))
