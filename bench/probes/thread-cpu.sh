#!/usr/bin/env bash
# CPU seconds per thread of one `flowsieve detect` run (user + system, from /proc/<pid>/task,
# sampled every 0.2 s; a thread's last sample before it ends): how the work splits between
# parse threads, shard threads, the main thread and the runtime's own threads.
#   [NODE_FLAGS=...] bash bench/probes/thread-cpu.sh INPUT [WORKERS]   (prints each thread's CPU and name)
set -euo pipefail
input=$1
workers=${2:-2}
out=$(mktemp -d)
node ${NODE_FLAGS:-} dist/src/cli/main.js detect "$input" --out "$out" --workers "$workers" --quiet --no-enrich &
pid=$!
declare -A best
while kill -0 "$pid" 2>/dev/null; do
  for t in /proc/"$pid"/task/*; do
    id=${t##*/}
    v=$(awk '{print $14+$15}' "$t/stat" 2>/dev/null || true)
    cat "$t/comm" > /tmp/comm.$id 2>/dev/null || true; if [[ -n "$v" && ( -z "${best[$id]:-}" || "$v" -gt "${best[$id]}" ) ]]; then best[$id]=$v; fi
  done
  sleep 0.2
done
wait "$pid" || true
ticks=$(getconf CLK_TCK)
for id in "${!best[@]}"; do echo "$id ${best[$id]} $(cat /tmp/comm.$id 2>/dev/null)"; done | sort -k2 -n -r | awk -v hz="$ticks" '$2 > 0 {printf "thread %s  %.2f s  %s %s\n", $1, $2 / hz, $3, $4}'
python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['performance']; print('records/s', p['records_per_second'])" "$out/summary.json"
rm -rf "$out"
