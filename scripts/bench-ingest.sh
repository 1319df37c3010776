#!/usr/bin/env bash
# Measures `loupe ingest` on N generated events through the real binary:
# events/s and peak RSS (GNU time's maximum resident set size), side by side
# with the store's floor measured in the same run on the same file: Badger
# alone writing each line as a value (scripts/floor), and the ratio; and the
# store's size on disk against the JSONL's.
# With LOUPE_BENCH_BASELINE=BINARY, another loupe binary (an older build)
# ingests the same file first, in the same run, for a before/after pair.
# Usage: scripts/bench-ingest.sh [N]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The ingested store is kept for the TUI start-up benchmark.
keep=${LOUPE_BENCH_STORE:-$PWD/bin/bench-store}
rm -rf "$keep"
make --no-print-directory build >/dev/null
go build -o bin/floor ./scripts/floor
# Interactions alone, one line each: what the floor compares with.
bin/loupe gen --whole --n "$n" --seed 1 > "$tmp/events.jsonl"
size=$(du -m "$tmp/events.jsonl" | cut -f1)
jsonl_bytes=$(stat -c %s "$tmp/events.jsonl")
timefmt='%e %M %U %S'
if [ -n "${LOUPE_BENCH_BASELINE:-}" ]; then
  /usr/bin/time -o "$tmp/time" -f "$timefmt" "$LOUPE_BENCH_BASELINE" ingest --store "$tmp/base" "$tmp/events.jsonl" > /dev/null || true
  read -r bsecs _ busr bsys < "$tmp/time"
  bbytes=$(du -sb "$tmp/base" | cut -f1)
  awk -v n="$n" -v secs="$bsecs" -v cpu="$(echo "$busr + $bsys" | bc)" -v s="$bbytes" -v j="$jsonl_bytes" 'BEGIN {
    printf "baseline: %d events in %.1f s = %.0f events/s (CPU %.1f s = %.0f us/event); store %.1f MB = %.3fx the JSONL\n", n, secs, n / secs, cpu, cpu / n * 1e6, s / 1e6, s / j
  }'
  rm -rf "$tmp/base"
fi
if /usr/bin/time -f "$timefmt" true 2>/dev/null; then
  /usr/bin/time -o "$tmp/time" -f "$timefmt" bin/loupe ingest --store "$tmp/store" --json "$tmp/events.jsonl" > "$tmp/summary.json" || true
  read -r secs rss_kb usr sys < "$tmp/time"
  echo "$usr $sys" | awk -v n="$n" '{ printf "ingest CPU: %.1f s user + %.1f s system = %.0f us/event\n", $1, $2, ($1 + $2) / n * 1e6 }'
else
  start=$(date +%s.%N)
  bin/loupe ingest --store "$tmp/store" --json "$tmp/events.jsonl" > "$tmp/summary.json" || true
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  rss_kb=0
fi
cat "$tmp/summary.json"
awk -v n="$n" -v secs="$secs" -v rss="$rss_kb" -v size="$size" 'BEGIN {
  rate = n / secs
  printf "ingest: %d events (%d MB of JSONL) in %.1f s = %.0f events/s; peak RSS %.0f MB\n", n, size, secs, rate, rss / 1024
  printf "target: >= 100000 events/s, 1M in <= 15 s -> %s\n", (rate >= 100000 ? "MET" : "MISSED")
}'
store_bytes=$(du -sb "$tmp/store" | cut -f1)
awk -v s="$store_bytes" -v j="$jsonl_bytes" 'BEGIN {
  r = s / j
  printf "store size: %.1f MB = %.3fx the JSONL (%.1f MB; target <= 0.5x) -> %s\n", s / 1e6, r, j / 1e6, (r <= 0.5 ? "MET" : "MISSED")
}'
floor=$(bin/floor "$tmp/events.jsonl" "$tmp/floor")
echo "$floor"
frate=$(echo "$floor" | sed -E 's/.*= ([0-9]+) lines.*/\1/')
awk -v n="$n" -v secs="$secs" -v f="$frate" 'BEGIN {
  r = (n / secs) / f
  printf "ingest vs floor: %.2fx the events/s of Badger alone (target >= 0.8x) -> %s\n", r, (r >= 0.8 ? "MET" : "MISSED")
}'
du -sh "$tmp/floor" | sed 's/^/floor store size: /'
rm -rf "$tmp/floor"
mv "$tmp/store" "$keep"
echo "store kept at $keep"
