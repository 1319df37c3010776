#!/usr/bin/env bash
# How loupe's costs grow with the number of events (issue 17's cost
# curves), measured through the real binary at each size N:
#
#   gen      loupe gen --whole --n N --seed 1 (one line per interaction)
#   ingest   loupe ingest into a fresh store: wall time, events/s, CPU time
#            per event and peak RSS (GNU time); exit 0 or 3 (the generator
#            writes some events without consent, which ingest rejects)
#   store    the store's size on disk (du) against the JSONL's size
#   open     the TUI opened on the store in a pty (BenchmarkCostTUIOpen in
#            cmd/loupe): time from exec to the inbox loaded and to the first
#            result of a filter typed then, and RssAnon a second later; the
#            first open, right after the ingest, apart from the median of
#            two reopens; and the CPU time the TUI had used by then
#   filter   BenchmarkCostFilter: the TUI's filter path on the store's own
#            summaries, typing BenchmarkFilter1M's queries; p95 per keystroke,
#            of wall time and of CPU time
#   trends   loupe trends --days 3660 --json (every day the store can hold):
#            median wall and CPU time of three runs, and peak RSS
#
# Each size gets a fresh directory under $TMPDIR (default /tmp), removed
# once measured: 3M events are about 3.6 GB of JSONL plus the store. The
# script prints one row per size as it goes, then the table and, for each
# metric, the cost per event at each size relative to the smallest and a
# verdict: "linear" when every size's cost per event is within ±25% of the
# smallest size's, else "sublinear" or "superlinear" by the largest size
# (a fixed cost, such as a process start, makes small sizes look dear:
# the "marginal" column, the cost per event added between the two largest
# sizes against that between the two smallest, separates the two).
# The 1-minute load average is sampled at every step: the machine may be
# shared, and the wall-clock numbers are only as good as it was quiet. CPU
# times (the second table) are what a loaded machine disturbs least: judge
# growth by them when the load changed between sizes.
#
# Usage: scripts/cost-curve.sh [SIZES...]   (default 100000 1000000 3000000)
# Results also go to $COST_CURVE_OUT (default bin/cost-curve), with each
# step's raw output.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000 3000000)
for n in "${sizes[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "cost-curve: size \"$n\": want a positive whole number of events" >&2; exit 2; }
done
if ! /usr/bin/time -f '%e' true >/dev/null 2>&1; then
  echo "cost-curve: needs GNU time at /usr/bin/time (for peak RSS and CPU time); apt-get install time" >&2
  exit 5
fi
out=${COST_CURVE_OUT:-$root/bin/cost-curve}
mkdir -p "$out"
rm -f "$out"/*.log "$out/results.tsv" "$out/table.md"
tmpbase=${TMPDIR:-/tmp}
build=$(mktemp -d "$tmpbase/loupe-cost-curve-bin.XXXXXX")
work=""
cleanup() { rm -rf "$build" ${work:+"$work"}; }
trap cleanup EXIT
trap 'exit 130' INT TERM

load1() { cut -d' ' -f1 /proc/loadavg; }
loads=()
sample() { loads+=("$(load1)"); }
note() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+dirty"
note "building loupe and the cmd/loupe benchmarks at $commit"
go build -o "$build/loupe" ./cmd/loupe
go test -c -o "$build/loupe.test" ./cmd/loupe
loupe=$build/loupe

# bench NAME STORE LOG: runs one cmd/loupe benchmark on STORE (from
# cmd/loupe: its TestMain builds the binary the pty benchmark runs).
bench() {
  (cd "$root/cmd/loupe" && LOUPE_BENCH_STORE=$2 "$build/loupe.test" -test.run '^$' \
    -test.bench "^$1\$" -test.benchtime 3x -test.timeout 60m) > "$3" 2>&1 || {
    echo "cost-curve: $1 failed on $2; its output ($3):" >&2; tail -20 "$3" >&2; exit 5; }
}
# metric LOG UNIT: the value a benchmark line reports in UNIT.
metric() {
  awk -v u="$2" '/^Benchmark/ { for (i = 3; i < NF; i++) if ($(i+1) == u) v = $i } END { if (v == "") exit 1; print v }' "$1" ||
    { echo "cost-curve: no \"$2\" in $1" >&2; exit 5; }
}
rec() { printf '%s\t%s\t%s\n' "$n" "$1" "$2" >> "$out/results.tsv"; }

printf '# cost curve, commit %s, %s, %s cores, %s\n' "$commit" "$(go env GOVERSION)" "$(nproc)" "$(date -u '+%Y-%m-%d %H:%M UTC')" | tee "$out/table.md"
for n in "${sizes[@]}"; do
  loads=()
  work=$(mktemp -d "$tmpbase/loupe-cost-curve.XXXXXX")
  # The JSONL is about 1.2 KB per event and the store about as much again
  # while both exist (the JSONL goes once ingested): ask for 3 KB per event.
  need_kb=$(( n * 3 ))
  avail_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
  if [ "$avail_kb" -lt "$need_kb" ]; then
    echo "cost-curve: $n events need about $((need_kb / 1024)) MB free in $work; $((avail_kb / 1024)) MB are" >&2
    exit 5
  fi
  sample
  note "$n: generating"
  "$loupe" gen --whole --n "$n" --seed 1 > "$work/events.jsonl"
  jsonl_bytes=$(stat -c %s "$work/events.jsonl")
  sample
  note "$n: ingesting $((jsonl_bytes >> 20)) MB of JSONL"
  rc=0
  /usr/bin/time -o "$work/time" -f '%e %U %S %M' "$loupe" ingest --store "$work/store" --json "$work/events.jsonl" \
    > "$out/ingest-$n.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "cost-curve: loupe ingest of $n events exited $rc:" >&2; cat "$out/ingest-$n.log" >&2; exit 5
  fi
  read -r secs usr sys rss_kb < <(tail -1 "$work/time")
  rm -f "$work/events.jsonl"
  sample
  store_kb=$(du -sk "$work/store" | cut -f1)
  accepted=$(grep -o '"accepted":[0-9]*' "$out/ingest-$n.log" | cut -d: -f2)
  note "$n: ingested $accepted in $secs s; store $((store_kb >> 10)) MB; opening the TUI"
  bench BenchmarkCostTUIOpen "$work/store" "$out/open-$n.log"
  sample
  note "$n: filtering"
  bench BenchmarkCostFilter "$work/store" "$out/filter-$n.log"
  sample
  note "$n: trends"
  tms=() tcpu=()
  for i in 1 2 3; do
    /usr/bin/time -o "$work/time" -f '%e %M %U %S' "$loupe" trends --store "$work/store" --days 3660 --json > /dev/null 2> "$out/trends-$n.log" ||
      { echo "cost-curve: loupe trends failed on $n events:" >&2; cat "$out/trends-$n.log" >&2; exit 5; }
    read -r t trss_kb tu ts < <(tail -1 "$work/time")
    tms+=("$t")
    tcpu+=("$(awk -v u="$tu" -v s="$ts" 'BEGIN { print u + s }')")
    sample
  done
  trends_s=$(printf '%s\n' "${tms[@]}" | sort -g | sed -n 2p)
  trends_cpu_s=$(printf '%s\n' "${tcpu[@]}" | sort -g | sed -n 2p)

  rec events "$n"
  rec accepted "${accepted:-0}"
  rec ingest_s "$secs"
  rec ingest_cpu_s "$(awk -v u="$usr" -v s="$sys" 'BEGIN { print u + s }')"
  rec ingest_peak_rss_mb "$(awk -v k="$rss_kb" 'BEGIN { printf "%.0f", k / 1024 }')"
  rec jsonl_mb "$(awk -v b="$jsonl_bytes" 'BEGIN { printf "%.1f", b / 1048576 }')"
  rec store_mb "$(awk -v k="$store_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
  rec open1_loaded_ms "$(metric "$out/open-$n.log" first-open-loaded-ms)"
  rec open1_filter_ms "$(metric "$out/open-$n.log" first-open-filter-ready-ms)"
  rec open1_rss_mb "$(metric "$out/open-$n.log" first-open-anon-rss-MB)"
  rec reopen_filter_ms "$(metric "$out/open-$n.log" reopen-filter-ready-ms)"
  rec reopen_rss_mb "$(metric "$out/open-$n.log" reopen-anon-rss-MB)"
  rec open1_cpu_ms "$(metric "$out/open-$n.log" first-open-cpu-ms)"
  rec reopen_cpu_ms "$(metric "$out/open-$n.log" reopen-cpu-ms)"
  rec filter_cpu_p95_ms "$(metric "$out/filter-$n.log" cpu-p95-ms)"
  rec filter_p50_ms "$(metric "$out/filter-$n.log" p50-ms)"
  rec filter_p95_ms "$(metric "$out/filter-$n.log" p95-ms)"
  rec filter_p95_3plus_ms "$(metric "$out/filter-$n.log" p95-3plus-ms)"
  rec trends_s "$trends_s"
  rec trends_cpu_s "$trends_cpu_s"
  rec trends_peak_rss_mb "$(awk -v k="$trss_kb" 'BEGIN { printf "%.0f", k / 1024 }')"
  rec load "$(printf '%s\n' "${loads[@]}" | awk '{ s += $1; if ($1 > m) m = $1; if (NR == 1 || $1 < lo) lo = $1 } END { printf "%.1f–%.1f (mean %.1f)", lo, m, s / NR }')"
  rm -rf "$work"
  work=""
  awk -F'\t' -v n="$n" '$1 == n { printf "%s=%s  ", $2, $3 } END { print "" }' "$out/results.tsv" >&2
done

# The table, then the verdicts. Cost per event of each metric: its value
# over N (for ingest, seconds per event: the inverse of events/s).
awk -F'\t' '
function v(n, k) { return val[n, k] + 0 }
{ if (!($1 in seen)) { seen[$1] = 1; ns[++nn] = $1 } val[$1, $2] = $3 }
END {
  print ""
  print "| events | JSONL | store (× JSONL) | ingest | ingest CPU/event | ingest peak RSS | filterable, first open (reopen) | anon RSS in use, first open (reopen) | filter p95 (3+ chars) | trends, all days | load average (1 min) |"
  print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for (i = 1; i <= nn; i++) {
    n = ns[i]
    printf "| %s | %.0f MB | %.0f MB (%.2f×) | %.1f s = %.0f events/s | %.1f µs | %.0f MB | %.2f s (%.2f s) | %.0f MB (%.0f MB) | %.1f ms (%.1f ms) | %.2f s | %s |\n",
      n, v(n, "jsonl_mb"), v(n, "store_mb"), v(n, "store_mb") / v(n, "jsonl_mb"),
      v(n, "ingest_s"), n / v(n, "ingest_s"), v(n, "ingest_cpu_s") * 1e6 / n, v(n, "ingest_peak_rss_mb"),
      v(n, "open1_filter_ms") / 1000, v(n, "reopen_filter_ms") / 1000, v(n, "open1_rss_mb"), v(n, "reopen_rss_mb"),
      v(n, "filter_p95_ms"), v(n, "filter_p95_3plus_ms"), v(n, "trends_s"), val[n, "load"]
  }
  print ""
  print "CPU time (user + system, all threads):"
  print ""
  print "| events | ingest | TUI to a filterable inbox, first open (reopen) | filter p95 per keystroke | trends, all days |"
  print "|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nn; i++) {
    n = ns[i]
    printf "| %s | %.1f s = %.1f µs/event | %.2f s (%.2f s) | %.1f ms | %.2f s |\n", n, v(n, "ingest_cpu_s"), v(n, "ingest_cpu_s") * 1e6 / n,
      v(n, "open1_cpu_ms") / 1000, v(n, "reopen_cpu_ms") / 1000, v(n, "filter_cpu_p95_ms"), v(n, "trends_cpu_s")
  }
  if (nn < 2) { print ""; print "(one size: no growth to judge)"; exit }
  split("ingest_s ingest_cpu_s ingest_peak_rss_mb store_mb open1_filter_ms open1_cpu_ms reopen_filter_ms reopen_cpu_ms open1_rss_mb reopen_rss_mb filter_p95_ms filter_p95_3plus_ms filter_cpu_p95_ms trends_s trends_cpu_s trends_peak_rss_mb", ks, " ")
  name["open1_cpu_ms"] = "TUI CPU to a filterable inbox, first open"; name["reopen_cpu_ms"] = "TUI CPU to a filterable inbox, reopen"
  name["filter_cpu_p95_ms"] = "filter CPU p95 per keystroke"; name["trends_cpu_s"] = "trends CPU over all days"
  name["ingest_s"] = "ingest time (1 / events/s)"; name["ingest_cpu_s"] = "ingest CPU time"
  name["ingest_peak_rss_mb"] = "ingest peak RSS"; name["store_mb"] = "store size"
  name["open1_filter_ms"] = "time to a filterable inbox, first open"; name["reopen_filter_ms"] = "time to a filterable inbox, reopen"
  name["open1_rss_mb"] = "anon RSS in use, first open"; name["reopen_rss_mb"] = "anon RSS in use, reopen"
  name["filter_p95_ms"] = "filter p95 per keystroke"; name["filter_p95_3plus_ms"] = "filter p95, 3+ chars"
  name["trends_s"] = "trends over all days"; name["trends_peak_rss_mb"] = "trends peak RSS"
  print ""
  hdr = "| metric | cost per event at " ns[1]
  for (i = 2; i <= nn; i++) hdr = hdr " | at " ns[i] " (× " ns[1] "'"'"'s)"
  print hdr " | marginal | verdict |"
  sep = "|---|---:"; for (i = 2; i <= nn; i++) sep = sep "|---:"; print sep "|---:|---|"
  for (j = 1; j in ks; j++) {
    k = ks[j]; c0 = v(ns[1], k) / ns[1]
    line = sprintf("| %s | %s", name[k], unit(k, c0))
    all = 1
    for (i = 2; i <= nn; i++) {
      r = (c0 > 0) ? (v(ns[i], k) / ns[i]) / c0 : 0
      if (r < 0.75 || r > 1.25) all = 0
      line = line sprintf(" | %s (%.2f×)", unit(k, v(ns[i], k) / ns[i]), r)
    }
    if (all) verdict = "linear"; else if (r < 0.75) verdict = "sublinear"; else if (r > 1.25) verdict = "superlinear"; else verdict = "irregular (in between sizes off by more than 25%)"
    marg = "—"
    if (nn >= 3) {
      a = (v(ns[2], k) - v(ns[1], k)) / (ns[2] - ns[1]); b = (v(ns[nn], k) - v(ns[nn-1], k)) / (ns[nn] - ns[nn-1])
      if (a > 0) marg = sprintf("%.2f×", b / a)
    }
    print line " | " marg " | " verdict " |"
  }
  print ""
  print "Cost per event: the metric over N (ingest: seconds per event, the inverse of events/s)."
  print "Verdict: linear when every size costs within ±25% per event of the smallest size, else"
  print "sublinear or superlinear by the largest size. Marginal: the cost per event added between"
  print "the two largest sizes over that between the two smallest (near 1× with a sublinear verdict:"
  print "a fixed cost plus a linear one; \"—\" when the first step did not grow)."
}
# unit: a cost per event, in a readable unit.
function unit(k, c) {
  if (k ~ /_s$/) return sprintf("%.2f µs", c * 1e6)
  if (k ~ /_ms$/) return sprintf("%.3f µs", c * 1e3)
  if (k ~ /_mb$/) return sprintf("%.0f B", c * 1048576)
  return c
}' "$out/results.tsv" | tee -a "$out/table.md"
echo
echo "(raw output of every step: $out)"
