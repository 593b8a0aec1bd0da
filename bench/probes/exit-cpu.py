#!/usr/bin/env python3
"""CPU (and wall) a process spends after its 'exit' handlers: wait4's rusage less the process's own
resourceUsage() at 'exit' (every thread), mostly the kernel freeing its memory (sys).
   python3 bench/probes/exit-cpu.py ROUNDS -- node dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich"""
import os,sys,subprocess,json,time,tempfile,statistics
rounds=int(sys.argv[1]); cmd=sys.argv[sys.argv.index('--')+1:]
pre=tempfile.NamedTemporaryFile('w',suffix='.cjs',delete=False)
pre.write("""process.on('exit',()=>{const u=process.resourceUsage();require('fs').writeFileSync(process.env.EXIT_CPU_FILE,JSON.stringify({u:u.userCPUTime,s:u.systemCPUTime,t:performance.timeOrigin+performance.now(),rss:u.maxRSS}));});""")
pre.close()
rows=[]
for r in range(rounds):
    out=pre.name+'.json'
    c=[cmd[0],'-r',pre.name]+cmd[1:]
    p=subprocess.Popen(c,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL,env=dict(os.environ,EXIT_CPU_FILE=out))
    _,st,ru=os.wait4(p.pid,0)
    end=time.time()*1000
    data=open(out).read()
    j=json.loads(data)
    du=ru.ru_utime*1e3-j['u']/1e3; ds=ru.ru_stime*1e3-j['s']/1e3
    rows.append((du,ds,end-j['t'],j['rss']/1024))
    print('round %d: after exit handler: user %.1f ms, sys %.1f ms, wall %.1f ms (maxRSS %.0f MiB)'%(r,du,ds,end-j['t'],j['rss']/1024),flush=True)
print('median user %.1f sys %.1f wall %.1f'%tuple(statistics.median(x[i] for x in rows) for i in range(3)))
