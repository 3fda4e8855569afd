#!/usr/bin/env bash
# profile.sh BENCH [PEER...]: instructions per call of a synchronous benchmark cell, counted by
# callgrind (valgrind) as the difference between a run of N and one of 3N calls, divided by 2N,
# so that start-up and JIT warm-up cancel out. Repeatable where timings are not (shared VMs,
# no hardware counters for perf). Also prints the per-function breakdown of the largest peer
# differences into bench/build/profile-BENCH-PEER.txt.
#
#   bash bench/profile.sh noop                 # napi and koffi-rs
#   N=200000 bash bench/profile.sh rand napi koffi-rs
#   bash bench/profile.sh callback             # per C call of call_js (1,000 invocations each)
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${1:?usage: profile.sh BENCH [PEER...]}
shift
peers=("$@")
[ ${#peers[@]} -gt 0 ] || peers=(napi koffi-rs)
n=${N:-1000000}
[ "$bench" = callback ] && n=${N:-2000}
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
node bench/run.js --only noop --peers napi --runs 1 --rounds 1 --batches 1 --batch-ms 1 --warmup-ms 1 --no-write >/dev/null
mkdir -p bench/build
for peer in "${peers[@]}"; do
    total=()
    for count in "$n" $((3 * n)); do
        out=bench/build/callgrind-$bench-$peer-$count.out
        BENCH_PROFILE_COUNT=$count valgrind --tool=callgrind --callgrind-out-file="$out" \
            node --single-threaded --expose-gc bench/cell.js "$peer" "$bench" >/dev/null 2>&1
        total+=("$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')")
    done
    per=$(( (total[1] - total[0]) / (2 * n) ))
    printf '%-10s %-10s %8d instructions per call\n' "$bench" "$peer" "$per"
    python3 - "$bench" "$peer" "$n" bench/build/callgrind-$bench-$peer-$n.out bench/build/callgrind-$bench-$peer-$((3 * n)).out <<'PY'
import re, subprocess, sys
bench, peer, n, small, large = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
def load(f):
    out = subprocess.run(['callgrind_annotate', '--inclusive=no', '--threshold=100', f], capture_output=True, text=True).stdout
    d = {}
    for line in out.splitlines():
        m = re.match(r'\s*([\d,]+)\s+\([^)]*\)\s+(.*)', line)
        if m and 'PROGRAM TOTALS' not in line:
            d[m.group(2)] = d.get(m.group(2), 0) + int(m.group(1).replace(',', ''))
    return d
a, b = load(small), load(large)
rows = sorted((((b.get(k, 0) - a.get(k, 0)) / (2 * n)), k) for k in set(a) | set(b))
with open(f'bench/build/profile-{bench}-{peer}.txt', 'w') as f:
    for v, k in reversed(rows):
        if abs(v) >= 1:
            f.write(f'{v:9.1f}  {k}\n')
PY
done
