#!/usr/bin/env python3
"""Self and inclusive time of a --cpu-prof profile (one thread), and what is self time under named
functions (e.g. addRecords): python3 bench/probes/cpuprof-under.py FILE.cpuprofile [FUNCTION...]
Sampled wall time: under load a thread waiting for a core is counted too (ratios, not ms)."""
import json,sys,collections
f=sys.argv[1]; roots=sys.argv[2:]
p=json.load(open(f))
nodes={n['id']:n for n in p['nodes']}
parent={}
for n in p['nodes']:
    for c in n.get('children',[]): parent[c]=n['id']
def name(n): cf=n['callFrame']; return (cf['functionName'] or '(anon)')+':'+str(cf['lineNumber'])
self_t=collections.Counter()
for s,d in zip(p['samples'],p['timeDeltas']): self_t[s]+=d
incl=collections.Counter(); under=collections.defaultdict(collections.Counter)
for nid,t in self_t.items():
    chain=[]; x=nid
    while x in nodes:
        chain.append(name(nodes[x])); x=parent.get(x)
    seen=set()
    for c in chain:
        if c in seen: continue
        seen.add(c); incl[c]+=t
    for r in roots:
        for i,c in enumerate(chain):
            if c.startswith(r+':'):
                under[r][chain[0]]+=t; break
for k,v in incl.most_common(40): print('%8.1f %s'%(v/1000,k))
for r in roots:
    print('== under',r)
    for k,v in under[r].most_common(15): print('   %8.1f %s'%(v/1000,k))
