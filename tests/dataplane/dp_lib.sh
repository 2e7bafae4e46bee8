# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the data plane's shell tests; uses their $dp_pid and $work.

# Numbered cases and failures: begin WHAT starts a case, fail WHY counts a failure in it.
failures=0 cases=0
fail() { echo "FAIL case $cases: $*"; failures=$((failures + 1)); }
begin() { cases=$((cases + 1)); echo "case $cases: $*"; }

# veth_ns NS VA VB ADDR4/N ADDR6/N: namespace NS, a veth pair VA (here, up) - VB (in NS,
# with the two addresses, up), loopback up in NS, and VB's checksum offload off (the kernel
# would leave UDP checksums to an offload that af_packet never performs). Exits the test
# with 77 when this machine cannot make them.
veth_ns() {
	[ "$(id -u)" = 0 ] || { echo "needs root for a network namespace" >&2; exit 77; }
	ip netns add "$1" 2>/dev/null || { echo "cannot create a network namespace" >&2; exit 77; }
	ip link add "$2" type veth peer name "$3" ||
		{ echo "cannot create a veth pair" >&2; exit 77; }
	ip link set "$3" netns "$1"
	ip link set "$2" up
	ip netns exec "$1" ip addr add "$4" dev "$3"
	ip netns exec "$1" ip addr add "$5" dev "$3" nodad
	ip netns exec "$1" ip link set "$3" up
	ip netns exec "$1" ip link set lo up
	ip netns exec "$1" ethtool -K "$3" tx off >/dev/null 2>&1 ||
		{ echo "ethtool is needed to turn off veth checksum offload" >&2; exit 77; }
}

# dp_ini FILE IP IP6 KEYRING [NAME:STORE:yes|no]...: a data plane config file, its addresses
# and key ring, and a swarm section per NAME (STORE packed with $pub's key; open or not).
dp_ini() {
	local f=$1 sw name store open
	printf '[dataplane]\nip = %s\nip6 = %s\nkeyring = %s\n' "$2" "$3" "$4" >"$f"
	shift 4
	for sw in "$@"; do
		IFS=: read -r name store open <<<"$sw"
		printf '\n[swarm %s]\nstore = %s\npublic = %s\nopen = %s\n' "$name" "$store" "$pub" \
			"$open" >>"$f"
	done
}

# dp_wait_ready ADDR: waits up to 10 s for the data plane started as $dp_pid (output in
# $work/dp.out) to announce ADDR. Exits the test: 77 when the af_packet PMD is missing, 1
# when the data plane died or never came up.
dp_wait_ready() {
	for _ in $(seq 100); do
		grep -q "^superpeer-dataplane: $1" "$work/dp.out" && return 0
		if ! kill -0 "$dp_pid" 2>/dev/null; then
			if grep -q "net_af_packet" "$work/dp.out"; then
				echo "no af_packet PMD: $(tail -3 "$work/dp.out")" >&2
				exit 77
			fi
			break
		fi
		sleep 0.1
	done
	fail "data plane did not start: $(tail -5 "$work/dp.out")"
	exit 1
}

# stop_dp: SIGTERM to the data plane, and wait for its summary.
stop_dp() {
	kill -TERM "$dp_pid" 2>/dev/null
	wait "$dp_pid" 2>/dev/null
	dp_pid=
}

# ingest_wait ID SECONDS: waits until swarm ID is listed and no longer ingesting ($sp swarm
# list, the key ring from $SUPERPEER_KEYRING); at most SECONDS.
ingest_wait() {
	for _ in $(seq $(($2 * 10))); do
		"$sp" swarm list | grep "^$1 " | grep -qv ingesting && return 0
		sleep 0.1
	done
	return 1
}

# seed_closed OUT: `superpeer seed`, its output in OUT, reports (within 2 s) that a peer
# closed its channel (RFC 7574 8.4).
seed_closed() {
	for _ in $(seq 20); do
		grep -q "^seed: a peer closed its channel after " "$1" && break
		sleep 0.1
	done
	grep "^seed: a peer closed its channel after " "$1"
}
