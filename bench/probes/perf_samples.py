"""The samples of a `perf script -F tid,ip,sym` listing of a `perf record -g` run, as (tid, frames),
innermost frame first: shared by perf-thread-funcs.py and turbofan-by-thread.py. A sample's first
line is its thread id, right-aligned (a tid of four digits starts with a space); its frames start
with a tab."""


def samples(path):
    cur, frames = None, []
    for line in open(path, errors='replace'):
        if not line.strip():
            if cur:
                yield cur, frames
            cur, frames = None, []
        elif not line.startswith('\t'):
            if cur:
                yield cur, frames
            cur, frames = line.split()[0], []
        else:
            parts = line.strip().split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else '?')
    if cur:
        yield cur, frames
