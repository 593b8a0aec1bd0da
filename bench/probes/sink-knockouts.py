#!/usr/bin/env python3
"""Copies of a build whose parse thread's batch building is changed, to size what the routed rows'
copies into a ring slot cost and what a reader writing its rows straight into the slot could save
(bench/RESULTS.md, session 20 ringwrite). Each variant is DIST copied to OUT/<variant> (its V8 code
caches deleted, the repository's src/data/*.json beside it) with workers/parse.bundle.cjs patched:
  twice    FlowSink.copyRun's 13 column copies done twice: the second copy finds the slot's lines the
           first wrote in cache, so its cost is the copy's own work (the loads from the module's area,
           the `set`s), the most a direct write can save; outputs unchanged
  idtwice  copyIds' known-ids loop run once more first, into a private batch (hot): its compute,
           not its stores into the slot; outputs unchanged
  skip     copyRun's column copies left out (wrong outputs: the parse thread's CPU only)
  zero     copyRun's column copies replaced by fills of 0 (stores, no loads; wrong outputs)
  slots    the ring's slots as taken: each new highest slot printed on stderr (how many a run touches)
Then, e.g.:
  python3 bench/probes/sink-knockouts.py dist /work/tmp-x twice idtwice
  python3 bench/probes/shard-cpu-ab.py 9 base=dist twice=/work/tmp-x/twice idtwice=/work/tmp-x/idtwice -- \
      /work/data/bucket-7100000-10-6 --out /work/tmp-x/o --workers 1 --quiet --no-enrich
"""
import glob, os, shutil, sys

COLUMNS = ['src', 'dst', 'packets', 'bytes', 'start', 'end', 'sport', 'dport', 'tcpFlags', 'feed', 'proto', 'action', 'direction']


def copy_run_sets(s):
    """The span of copyRun's 13 `set`s in the bundle (after its short-run branch, before the cloud fill)."""
    i = s.index('copyRun(c, shard, from, b, n) {')
    k = s.index('b.src.set', i)
    j = s.index('b.cloud.fill(c.cloud, at, at + n);', i)
    return k, j


def patch(variant, s):
    if variant in ('twice', 'skip', 'zero'):
        k, j = copy_run_sets(s)
        sets = s[k:j]
        if variant == 'twice':
            return s[:k] + sets + sets + s[j:]
        if variant == 'skip':
            return s[:k] + s[j:]
        four = ('src', 'dst')
        fills = ''.join(f'b.{c}.fill(0, at{" * 4" if c in four else ""}, (at + n){" * 4" if c in four else ""});\n\t\t' for c in COLUMNS)
        return s[:k] + fills + s[j:]
    if variant == 'idtwice':
        i = s.index('copyIds(c, shard, from, b, n) {')
        k = s.index('for (let k = 0; k < n; k++) {', i)
        extra = ('{ const sc = globalThis.__idScratch ??= allocBatch(4200);\n'
                 '\t\tfor (let o = 0; o < n; o += 4096) copyKnownIds(remap, account, region, iface, instance, from + o, sc, 0, Math.min(4096, n - o)); }\n\t\t')
        return s[:k] + extra + s[k:]
    if variant == 'slots':
        line = 'const b = batchOver(this.shared.data, this.shared.at + s * this.stride, capacity);'
        if line not in s:
            raise SystemExit('slots: BatchRing.take not found in the bundle')
        return s.replace(line, line + ' if (s >= (globalThis.__topSlot ?? 0)) { globalThis.__topSlot = s + 1; process.stderr.write(`slot ${s} of ${this.slots}\\n`); }', 1)
    raise SystemExit(f'unknown variant {variant}')


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    dist, out, variants = sys.argv[1], sys.argv[2], sys.argv[3:]
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for v in variants:
        to = os.path.join(out, v)
        shutil.rmtree(to, ignore_errors=True)
        shutil.copytree(dist, to)
        for f in glob.glob(os.path.join(to, '**', '*.v8cache'), recursive=True):
            os.remove(f)
        for f in glob.glob(os.path.join(repo, 'src', 'data', '*.json')):
            shutil.copy(f, os.path.join(to, 'src', 'data'))
        bundle = os.path.join(to, 'workers', 'parse.bundle.cjs')
        with open(bundle) as fh:
            s = fh.read()
        with open(bundle, 'w') as fh:
            fh.write(patch(v, s))
        print(to)


main()
