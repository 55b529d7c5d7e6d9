#!/usr/bin/env bash
# Peak RSS and wall time of `relcon fleet --json --no-cache` against a generated simulator fleet
# (issue 10: 20,000 circuits under 300 MB and 60 s). The simulator runs in its own process (its
# memory is not counted), its clock pinned and almost still, so two binaries' documents can be
# compared: `sha256` is of the document with what differs between any two runs blanked (the
# simulator's port, and the times relcon stamps by its own clock: `generated_at`, `read_at`).
#
#   scripts/fleet_memory.sh PLANTS CIRCUITS_PER_PLANT [RELCON_BINARY] [OUT]
#
# e.g. `scripts/fleet_memory.sh 2000 10 target/release/relcon /tmp/fleet-20k.json`. Prints one
# line: circuits, peak RSS (MB), wall time (s), exit code, document size and sha256. Set
# HEAPTRACK=1 to run relcon under heaptrack as well (its file goes to /tmp, its banner into
# OUT). heaptrack sees only the system allocator: profile a `--no-default-features` build
# (glibc's malloc), not the default mimalloc one.
set -euo pipefail
plants=${1:?plants}
per=${2:?circuits per plant}
bin=${3:-target/release/relcon}
out=${4:-/tmp/relcon-fleet-$plants-$per.json}
start=${RELCON_CLOCK_START:-2026-11-26T08:00:00Z}
dir=$(mktemp -d)
trap 'kill "$sim" 2>/dev/null || true; wait "$sim" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" sim serve --plants "$plants" --circuits-per-plant "$per" --addr 127.0.0.1:0 \
  --speed 0.0001 --start "$start" --write-config "$dir/sim.toml" >"$dir/sim.log" 2>&1 &
sim=$!
for _ in $(seq 1 600); do
  [ -s "$dir/sim.toml" ] && break
  kill -0 "$sim" 2>/dev/null || { cat "$dir/sim.log" >&2; exit 1; }
  sleep 0.5
done
[ -s "$dir/sim.toml" ] || { echo "the simulator did not write its config" >&2; exit 1; }
run=("$bin" --config "$dir/sim.toml" --state-dir "$dir/state" fleet --json --no-cache)
if [ "${HEAPTRACK:-0}" = 1 ]; then
  run=(heaptrack -o "/tmp/relcon-heaptrack-$plants-$per" "${run[@]}")
fi
set +e
RELCON_CLOCK_START=$start /usr/bin/time -f '%M %e' -o "$dir/time" "${run[@]}" >"$out" 2>"$dir/err"
code=$?
set -e
read -r kb secs <"$dir/time"
printf 'circuits=%d peak_rss_mb=%.0f time_s=%s exit=%d doc_bytes=%d sha256=%s load=%s\n' \
  $((plants * per)) "$(echo "$kb / 1024" | bc -l)" "$secs" "$code" "$(stat -c %s "$out")" \
  "$(sed -E 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g; s/"(generated_at|read_at)": "[^"]*"/"\1": ""/g' "$out" | sha256sum | cut -c1-16)" "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
[ "$code" = 0 ] || tail -5 "$dir/err" >&2
