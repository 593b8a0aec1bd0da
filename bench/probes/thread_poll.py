"""The polling loop the per-thread CPU probes share (thread-cpu.py, thread-cpu-ns.py, thread-cpu-tid.py,
thread-faults.py): runs a
command, its output dropped, and hands each of its threads' /proc directories to `sample`
every `interval` seconds while it runs. A thread's figure is whatever `sample` last saw
before it exited, so each can miss up to one interval.
"""
import os, subprocess, time


def poll_threads(argv, interval, sample):
    """Runs argv, calling sample(tid, '/proc/PID/task/TID') for each thread at each poll; its exit status."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while p.poll() is None:
        try:
            tasks = os.listdir(f'/proc/{p.pid}/task')
        except OSError:
            break
        for t in tasks:
            sample(t, f'/proc/{p.pid}/task/{t}')
        time.sleep(interval)
    return p.wait()


def task_stat(task):
    """A thread's /proc stat as (name, fields after the name), or None once it has exited;
    fields[7] is its minor faults, fields[11] + fields[12] its user + sys ticks."""
    try:
        st = open(f'{task}/stat').read()
    except OSError:
        return None
    return st[st.index('(') + 1:st.rindex(')')], st[st.rindex(')') + 2:].split()


def run_times(argv, interval=0.002):
    """Runs argv; each thread's run time in ns (/proc/…/schedstat), the last seen before it exited, by tid."""
    best = {}

    def sample(t, task):
        try:
            v = int(open(f'{task}/schedstat').read().split()[0])
        except (OSError, ValueError, IndexError):
            return
        if v > best.get(t, 0):
            best[t] = v
    poll_threads(argv, interval, sample)
    return best
