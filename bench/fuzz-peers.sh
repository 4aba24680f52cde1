#!/usr/bin/env bash
# fuzz-peers.sh - `make bench`, part 9: vfuctl fuzz against libvfio-user's
# sample servers (../shared/peers), black-box, for a fixed budget (execs,
# capped in time): how many findings, of which kinds (their deduplication
# keys), in how many execs and seconds.  The
# causes found so far are kept in traces/findings/ (traces/README.md).
#
#   VFUCTL, PEERS, BENCH_FUZZ_PEER_N (execs per sample, default 300),
#   BENCH_FUZZ_PEER_TIME (at most, per sample, default 60s),
#   BENCH_FUZZ_PEER_SEED (default 1)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
vfuctl=${VFUCTL:-$here/../cli/vfuctl}
peers=${PEERS:-$here/../../shared/peers}
n=${BENCH_FUZZ_PEER_N:-300}
secs=${BENCH_FUZZ_PEER_TIME:-60s}
seed=${BENCH_FUZZ_PEER_SEED:-1}
. "$here/lib.sh"
with_tmp

# the samples that serve a socket given as their last argument and keep
# serving without a terminal (null waits for Enter on its standard input)
samples=(libvfio-user/gpio-pci-idio-16 libvfio-user-7e7a0a6/server)

echo "== vfuctl fuzz: libvfio-user samples, $n execs or $secs each, seed $seed"
for s in "${samples[@]}"; do
	if [ ! -x "$peers/$s" ]; then
		echo "$s: not in $peers, skipped"
		continue
	fi
	out=$("$vfuctl" fuzz -q -n "$n" --time "$secs" --seed "$seed" -t 1000 -o json \
		-d "$tmp/${s//\//-}" -- "$peers/$s" -v '{socket}' || true)
	jq -r --arg s "$s" '"\($s): \(.findings) findings (\(.duplicates) duplicates) in \(.execs) execs, \(.seconds | floor) s"' <<<"$out"
	# per kind, what tells them apart: the command, sanitizer frames, or
	# "split delivery"
	jq -r '.found | group_by(.kind) | .[] | "  \(.[0].kind): \(length): " +
		(map(.key | sub("^[a-z]+[|][0-9]+[|]"; "")) | join(", "))' <<<"$out"
done
