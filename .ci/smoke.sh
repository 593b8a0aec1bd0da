#!/usr/bin/env bash
# Runs an installed flowsieve the way a user would, from an empty folder outside the checkout:
#
#   .ci/smoke.sh FLOWSIEVE...      e.g. .ci/smoke.sh /tmp/prefix/bin/flowsieve
#
# --version; generate a small sample; detect it with enrichment (the bundled actors.json and
# IP databases), worker threads and the generated allow list; a report; filter; and serve:
# a file dropped into the spool is processed, /healthz and /metrics answer, SIGTERM stops it.
# Anything missing from the installed file list (workers, data files, databases) fails here.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: .ci/smoke.sh FLOWSIEVE..." >&2; exit 2; }
fs=("$@")
work=$(mktemp -d "${TMPDIR:-/tmp}/flowsieve-smoke-XXXXXX")
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
step() { echo "smoke: $*"; }

step "$("${fs[@]}" --version)"
"${fs[@]}" generate --out sample --scale 0.02 --days 1 --clouds aws,azure,gcp --quiet
[ -f sample-meta/ground-truth.json ] || { echo "smoke: generate wrote no sample-meta/ground-truth.json" >&2; exit 1; }
"${fs[@]}" detect sample --out out --workers 2 --allow sample-meta/allow.txt --region-map sample-meta/region-map.json --quiet
test -s out/scans.ndjson && test -s out/files.ndjson && test -s out/summary.json
grep -q '"country"' out/scans.ndjson || { echo "smoke: scans.ndjson has no enrichment columns" >&2; exit 1; }
step "detect: $(wc -l <out/scans.ndjson) scan keys, $(wc -l <out/files.ndjson) files"
"${fs[@]}" report --scans out --out report.html
test -s report.html
"${fs[@]}" filter sample/aws --scans out --out filtered --quiet
test -n "$(ls -A filtered)"
step "report and filter written"

mkdir spool
: >serve.log # before the background start: the loop below may read it before the child opens it
"${fs[@]}" serve --spool spool --state state --listen 127.0.0.1:0 --settle 0 --poll 200ms --workers 2 >serve.log 2>&1 &
serve_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\).*#\1#p' serve.log | head -1)
  [ -n "$port" ] && break
  kill -0 "$serve_pid" 2>/dev/null || { cat serve.log; exit 1; }
  sleep 0.2
done
[ -n "$port" ] || { echo "smoke: serve did not start" >&2; cat serve.log; exit 1; }
first=$(find sample/aws -type f | sort | awk 'NR == 1')
cp "$first" "spool/.incoming" && mv "spool/.incoming" "spool/$(basename "$first")"
for _ in $(seq 1 100); do
  grep -q 'batch 1' serve.log && break
  sleep 0.2
done
node -e "
  const get = (p) => fetch('http://127.0.0.1:$port' + p).then(async (r) => { if (!r.ok) throw new Error(p + ' ' + r.status); return r.text(); });
  Promise.all([get('/healthz'), get('/metrics')]).then(([h, m]) => {
    if (!/flowsieve_files_total/.test(m)) throw new Error('no flowsieve metrics');
    console.log('smoke: serve answers /healthz and /metrics');
  }).catch((e) => { console.error('smoke: ' + e.message); process.exit(1); });
"
kill -TERM "$serve_pid"
wait "$serve_pid" || { echo "smoke: serve exited $? on SIGTERM" >&2; cat serve.log; exit 1; }
serve_pid=
step "serve stopped on SIGTERM; all good"
