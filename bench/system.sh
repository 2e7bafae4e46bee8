#!/usr/bin/env bash
# bench/system.sh [BUILD_DIR] [SECONDS] [PEERS] [LOG_DIR] — the system benchmark of
# docs/performance.md: superpeer-dataplane serving superpeer-loadgen's peers over net_memif.
#
#   lcore 0: superpeer-dataplane (one worker)  ==net_memif==  lcore 1: superpeer-loadgen
#            memif server, 10.99.0.1                           memif client, PEERS peers
#            (MEMIF=zc: the roles swap)                        10.1.0.1.. ports 20000..
#
# For 1024-, 4096- and 8192-byte chunks of a 256 MiB swarm (`superpeer pack`; SWARM_MIB), SECONDS
# (default 10) of serving plain and SECONDS through ESP in UDP (one AES-128-GCM SA pair),
# PEERS (default 64) peers with 128 chunks asked for each; the first second is warm-up. The
# ceilings come from the same run on the same cores: dpdk-testpmd forwarding in io mode on
# lcore 0 over the same memif pair, reflecting the loadgen's flood of frames the size of an
# ESP chunk datagram (the I/O ceiling, as the chunk payload those frames would carry), and
# ipsec-mb AES-128-GCM seal bursts of the chunk size pinned to CPU 0 (bench_crypto).
# Then ingest: the data plane, serving nothing, ingests the same swarm from one
# superpeer-loadgen --seed peer (`superpeer swarm ingest`, plain or through ESP in UDP), again
# and again for SECONDS; the loadgen times each complete ingest from the first REQUEST to the
# ACK of the last chunk (the data plane ACKs a chunk once it is Merkle-verified). Its ceiling
# is ipsec-mb AES-128-GCM open bursts plus multi-buffer SHA-256 of the chunk size on CPU 0.
# Prints Markdown tables. Builds nothing: BUILD_DIR must hold the built tree.
#
# Hugepages: used when free ones cover the run; as root, 1100 more are reserved for the run
# (and given back, with the hugetlbfs mount, at exit); otherwise --no-huge, said in the output.
# memif rings: 4096 buffers of 9216 bytes each way, so an 8 KiB chunk is one descriptor and the
# peers' windows fit in the ring. LOG_DIR (optional) keeps every process's output.
# CHUNKS in the environment (default "1024 4096 8192") picks the chunk sizes; DP_OPTS adds
# options to the data plane's (e.g. DP_OPTS="--ledbat no").
# Last, channels held at once: CHANNELS (default 100000) loadgen peers each open a channel,
# take their first 2 chunks and idle, against a data plane with MAX_PEERS (default 131072)
# peer table slots; the table is read from the data plane's start line.
# SOURCES (default 1, at most 4): the ingest step's sources, that many loadgen --seeds peers
# (10.1.0.1:20000, 10.1.0.2:20001, ...), each added with its own `swarm ingest --from`.
# STEPS (default "serve ingest hold") picks the steps run: serve (with its I/O ceiling),
# ingest, hold; e.g. STEPS=ingest for the ingest table alone.
# WORKERS (default 1): the data plane's workers, each with its own memif ring pair, and as
# many loadgen queues (--queues), each on its own lcore with a block of the peers: serve and
# hold scale out that way (ingest, one worker's job per swarm, is skipped). Needs 2 x WORKERS
# CPUs: the data plane's main lcore and worker 1 on CPU 0, worker k on CPU k-1, the loadgen's
# loops on CPUs WORKERS..2 x WORKERS-1 (OVERCOMMIT=1 runs on fewer, CPUs shared: to see that it
# runs, not to measure). Through ESP each peer has its own SA pair then (`superpeer sa add`,
# loadgen --sa-per-peer), as an SA runs on one worker; SA_PER_PEER=1 does the same with one
# worker, the baseline to compare with. The ceilings stay those of one core; the ratio
# column compares with WORKERS times them.
# MEMIF=zc (default copy; needs hugepages): the data plane, and testpmd for the I/O ceiling,
# are the memif client in zero-copy mode, their own mbufs in the rings, so that only the
# loadgen (then the server) copies frames, as a NIC's DMA would spare the data plane's core.
# SWARM_MIB (default 256, 16 to 4096): the swarm's size; larger makes each ingest last
# longer, e.g. to profile the worker inside one ingest rather than across the gaps between.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-10}
peers=${3:-64}
logdir=${4:-}
chunks=${CHUNKS:-1024 4096 8192}
channels=${CHANNELS:-100000}
max_peers=${MAX_PEERS:-131072}
memif_mode=${MEMIF:-copy}
sources=${SOURCES:-1}
swarm_mib=${SWARM_MIB:-256}
workers=${WORKERS:-1}
sa_per_peer=${SA_PER_PEER:-0}
[[ $workers =~ ^[0-9]+$ ]] && [ "$workers" -ge 1 ] && [ "$workers" -le 16 ] ||
	{ echo "system.sh: WORKERS is 1 to 16" >&2; exit 1; }
case $sa_per_peer in 0 | 1) ;; *) echo "system.sh: SA_PER_PEER is 0 or 1" >&2; exit 1 ;; esac
[ "$workers" -gt 1 ] && sa_per_peer=1
[[ $swarm_mib =~ ^[0-9]+$ ]] && [ "$swarm_mib" -ge 16 ] && [ "$swarm_mib" -le 4096 ] ||
	{ echo "system.sh: SWARM_MIB is 16 to 4096" >&2; exit 1; }
case $sources in 1 | 2 | 3 | 4) ;; *) echo "system.sh: SOURCES is 1 to 4" >&2; exit 1 ;; esac
steps=" ${STEPS:-serve ingest hold} "
step() { [[ $steps == *" $1 "* ]]; }
for st in $steps; do
	case $st in serve | ingest | hold) ;; *) echo "system.sh: STEPS: serve, ingest, hold" >&2; exit 1 ;; esac
done
step hold || channels=0
if [ "$workers" -gt 1 ] && step ingest; then
	echo "system.sh: WORKERS=$workers: the ingest step is skipped (one ingest runs on one worker)" >&2
	steps=${steps/ ingest / }
fi
case $memif_mode in copy | zc) ;; *) echo "system.sh: MEMIF is copy or zc" >&2; exit 1 ;; esac
dp_opts=${DP_OPTS:-}
sp=$build/tools/superpeer dp=$build/dataplane/superpeer-dataplane lg=$build/tools/superpeer-loadgen
for f in "$sp" "$dp" "$lg" "$build/bench/bench_crypto"; do
	[ -x "$f" ] || { echo "system.sh: $f missing: build $build first" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "system.sh: needs 2 CPUs (data plane and loadgen)" >&2; exit 1; }
overcommit=no
if [ "$(nproc)" -lt $((2 * workers)) ]; then
	[ "${OVERCOMMIT:-0}" = 1 ] ||
		{ echo "system.sh: WORKERS=$workers needs $((2 * workers)) CPUs, has $(nproc) (OVERCOMMIT=1: share them)" >&2; exit 1; }
	overcommit=yes
fi
# The lcores of the serve step's processes, as EAL --lcores maps (CPU numbers modulo nproc).
dp_lcores=0@0 lg_lcores=
for ((k = 1; k <= workers; k++)); do
	[ "$workers" -gt 1 ] && dp_lcores+=",$k@$(((k - 1) % $(nproc)))"
	lg_lcores+="${lg_lcores:+,}$((k - 1))@$(((workers + k - 1) % $(nproc)))"
done
[ "$workers" -gt 1 ] || lg_lcores=0@1

work=$(mktemp -d "${TMPDIR:-/tmp}/sp-system.XXXXXX")
tag=spsys$$
pids=()
huge_mnt= huge_old=
cleanup() {
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ -n "$logdir" ]; then mkdir -p "$logdir" && cp "$work"/*.out "$logdir"/ 2>/dev/null || true; fi
	rm -rf /var/run/dpdk/"$tag"* /dev/shm/superpeer-"$tag"*.keyring
	if [ -n "$huge_mnt" ]; then
		umount "$huge_mnt" 2>/dev/null || true
		echo "$huge_old" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Hugepages: 1024 MiB per process, two processes at a time; 256 more per worker past the
# first (its mbufs and, in the hold step, its peer table; a loadgen queue's pools).
mem_mb=$((1024 + 256 * (workers - 1)))
need=$((mem_mb + 76))
free=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)
hsize=$(awk '/Hugepagesize/ { print $2 }' /proc/meminfo)
mem_note="hugepages (${hsize} kB)"
if [ "$hsize" = 2048 ] && [ "$free" -lt "$need" ] && [ "$(id -u)" = 0 ]; then
	huge_old=$(cat /proc/sys/vm/nr_hugepages)
	echo $((huge_old + need - free)) >/proc/sys/vm/nr_hugepages || true
	free=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)
fi
if [ "$free" -ge "$need" ] && mkdir -p "$work/huge" &&
	{ [ "$(id -u)" = 0 ] && mount -t hugetlbfs -o pagesize=2M nodev "$work/huge"; }; then
	huge_mnt=$work/huge
	mem() { echo "-m $mem_mb --huge-dir $huge_mnt"; }
else
	mem_note="normal pages (--no-huge: no hugepages to be had; DESIGN 6 puts the cost at ~40 % of packet rate)"
	mem() { echo "--no-huge -m $mem_mb"; }
fi
memif="rsize=12,bsize=9216"
# lcores LIST: EAL's -l LIST, or --lcores LIST for a map of lcores to CPUs (lcore@cpu).
lcores() { if [[ $1 == *@* ]]; then echo "--lcores $1"; else echo "-l $1"; fi; }
if [ "$memif_mode" = zc ]; then
	[ -n "$huge_mnt" ] || { echo "system.sh: MEMIF=zc needs hugepages (run as root)" >&2; exit 1; }
	# Zero-copy exports the client's DPDK memory to the server: one file per segment list.
	eal() { echo "$(lcores "$1") $(mem) --no-pci --file-prefix $tag$2 --log-level 1 --single-file-segments"; }
	dp_memif="role=client,zero-copy=yes" lg_memif="role=server"
	dp_opts="--mbufs 16383 $dp_opts" # both rings (2 x 4096) hold the data plane's own mbufs
else
	eal() { echo "$(lcores "$1") $(mem) --no-pci --file-prefix $tag$2 --log-level 1"; }
	dp_memif="role=server" lg_memif="role=client"
fi

# start_pair START_DP START_LG LGOUT: the memif server first. A copying data plane is the
# server; a zero-copy one is the client, started once the loadgen says its port is open (the
# socket is abstract: nothing to wait for in the file system).
start_pair() {
	if [ "$memif_mode" = zc ]; then
		$2
		for _ in $(seq 300); do grep -qs "port open" "$3" && break; sleep 0.1; done
		$1
	else
		$1
		sleep 2
		$2
	fi
}

k_in=0x000102030405060708090a0b0c0d0e0f10111213
k_out=0x202122232425262728292a2b2c2d2e2f30313233
"$sp" keygen -o "$work/key" >/dev/null
head -c $((swarm_mib << 20)) /dev/urandom >"$work/content"

# wait_gone PID SECONDS: true once PID has exited; SIGKILL after SECONDS.
wait_gone() {
	for _ in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# serve CHUNK MODE [hold]: one data plane, one loadgen run ($work/{dp,lg}-CHUNK-MODE.out);
# hold: CHANNELS peers that take 2 chunks each and keep their channels open, against MAX_PEERS
# peer table slots (outputs in $work/{hdp,hlg}.out).
serve() {
	local chunk=$1 mode=$2 sock=$work/m.sock esp_dp=() esp_lg=() swarm dpid lgp
	local dp_out=$work/dp-$chunk-$mode.out lg_out=$work/lg-$chunk-$mode.out
	local dp_peers=(--max-peers 16384) lg_peers=(--peers "$peers" --window 128)
	swarm=$(awk '/^swarm-id:/ { print $2 }' "$work/store$chunk/manifest")
	if [ "$mode" = esp ] && [ "$sa_per_peer" = 1 ]; then
		# The loadgen's run starts once the data plane has every peer's SAs.
		rm -f "$work/sas-in"
		esp_lg=(--sa-out "0x1001:$k_in" --sa-in "0x2002:$k_out" --sa-per-peer
			--go-file "$work/sas-in")
	elif [ "$mode" = esp ]; then
		esp_dp=(--sa-in "0x1001:$k_in" --sa-out "0x2002:$k_out")
		esp_lg=(--sa-out "0x1001:$k_in" --sa-in "0x2002:$k_out")
	fi
	[ "$workers" -gt 1 ] && lg_peers+=(--queues "$workers")
	if [ "${3:-}" = hold ]; then
		dp_out=$work/hdp.out lg_out=$work/hlg.out
		dp_peers=(--max-peers "$max_peers") lg_peers=(--peers "$channels" --window 2 --hold 2)
		[ "$workers" -gt 1 ] && lg_peers+=(--queues "$workers")
	fi
	rm -f "$sock"
	# shellcheck disable=SC2046
	start_dp() {
		timeout -s INT $((secs + 30)) "$dp" $(eal "$dp_lcores" dp) --vdev "net_memif0,$dp_memif,socket=$sock,$memif" \
			-- --ip 10.99.0.1 --store "$work/store$chunk" --public "$work/key/provider.pub" --open \
			--mtu 9000 --keyring "$tag" --idle-sleep-us 0 "${dp_peers[@]}" "${esp_dp[@]}" $dp_opts \
			>"$dp_out" 2>&1 &
		dpid=$!
		pids+=("$dpid")
		[ "${#esp_dp[@]}" -gt 0 ] || [ "$mode" != esp ] || sa_per_peer_add "$dp_out"
	}
	# shellcheck disable=SC2046
	start_lg() {
		timeout -s INT $((secs + 60)) "$lg" $(eal "$lg_lcores" lg) --vdev "net_memif0,$lg_memif,socket=$sock,$memif" \
			-- --target 10.99.0.1 --swarm "$swarm" --chunk-size "$chunk" "${lg_peers[@]}" \
			--seconds "$secs" --warmup 1 --linger 30 --link-wait 30 "${esp_lg[@]}" \
			>"$lg_out" 2>&1 &
		lgp=$!
		pids+=("$lgp")
	}
	start_pair start_dp start_lg "$lg_out"
	stop_pair "$lg_out" "$dpid" "$lgp" $((secs + 20))
}

# sa_per_peer_add DPOUT: once the data plane has said it runs (its start line in DPOUT, the
# key ring then ready), an SA pair for each of the serve step's peers (10.1.0.1 + i, port
# 20000 + i, wrapping past 65535 as the loadgen's do), as the loadgen's --sa-per-peer has
# them, in one `superpeer sa batch`; then the loadgen's go file.
sa_per_peer_add() {
	local ip
	for _ in $(seq 300); do grep -qs "^superpeer-dataplane: 10.99.0.1" "$1" && break; sleep 0.1; done
	for ((i = 0; i < peers; i++)); do
		ip="10.1.$(((1 + i) >> 8)).$(((1 + i) & 255))"
		echo "add in spi $((0x1001 + i)) peer $ip encap aead $k_in"
		echo "add out spi $((0x2002 + i)) peer $ip encap $((20000 + i % 45536)) aead $k_out"
	done | "$sp" sa --keyring "$tag" batch - >/dev/null ||
		{ echo "system.sh: sa batch for the peers' SAs failed" >&2; return 1; }
	touch "$work/sas-in"
}

# stop_pair LGOUT DPID LGPID SECONDS: once the loadgen has printed its summary (within
# SECONDS) it polls no more (--linger); the data plane leaves first, then the loadgen, which
# sees the link go down. The other order can crash the data plane inside DPDK 22.11's memif
# PMD (docs/dataplane.md, "net_memif").
stop_pair() {
	for _ in $(seq $(($4 * 10))); do grep -qs "^loadgen: " "$1" && break; sleep 0.1; done
	kill -INT "$2" 2>/dev/null || true
	wait_gone "$2" 10
	wait_gone "$3" 35
}

# ingest CHUNK MODE: the data plane ingests the store from the loadgen's seeder, repeatedly
# for $secs seconds (outputs in $work/{idp,ilg}-CHUNK-MODE.out).
ingest() {
	local chunk=$1 mode=$2 sock=$work/i.sock esp_dp=() esp_lg=() from=() id end dpid lgp k
	id=$(awk '/^swarm-id:/ { print $2 }' "$work/store$chunk/manifest")
	if [ "$mode" = esp ]; then
		esp_dp=(--sa-in "0x1001:$k_in" --sa-out "0x2002:$k_out")
		esp_lg=(--sa-out "0x1001:$k_in" --sa-in "0x2002:$k_out")
	fi
	rm -f "$sock"
	# shellcheck disable=SC2046
	start_dp() {
		timeout -s INT $((secs + 90)) "$dp" $(eal 0 dp) --vdev "net_memif0,$dp_memif,socket=$sock,$memif" \
			-- --ip 10.99.0.1 --mtu 9000 --keyring "$tag" --idle-sleep-us 0 "${esp_dp[@]}" $dp_opts \
			>"$work/idp-$chunk-$mode.out" 2>&1 &
		dpid=$!
		pids+=("$dpid")
	}
	# shellcheck disable=SC2046
	start_lg() {
		timeout -s INT $((secs + 100)) "$lg" $(eal 1 lg) --vdev "net_memif0,$lg_memif,socket=$sock,$memif" \
			-- --target 10.99.0.1 --seed "$work/store$chunk" --public "$work/key/provider.pub" \
			--seeds "$sources" --peer-port 20000 --seconds $((secs + 50)) --warmup 0 --linger 30 --link-wait 30 --mtu 9000 \
			"${esp_lg[@]}" >"$work/ilg-$chunk-$mode.out" 2>&1 &
		lgp=$!
		pids+=("$lgp")
	}
	start_pair start_dp start_lg "$work/ilg-$chunk-$mode.out"
	# the data plane's key ring exists once it runs
	for _ in $(seq 100); do [ -e /dev/shm/superpeer-"$tag".keyring ] && break; sleep 0.1; done
	sleep 1
	end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		# Plain: every source in one command. ESP in UDP goes to each source's own port, and
		# --esp-port is one for the command: one command per source, the first starting the
		# ingest, the others joining it (the swarm's MiB take longer than the commands).
		from=()
		for ((k = 0; k < sources; k++)); do
			from+=(--from "10.1.0.$((1 + k)):$((20000 + k))")
		done
		if [ "$mode" = plain ]; then
			"$sp" swarm --keyring "$tag" ingest "$work/store$chunk/manifest" --public \
				"$work/key/provider.pub" "${from[@]}" >/dev/null || break
		else
			for ((k = 0; k < sources; k++)); do
				"$sp" swarm --keyring "$tag" ingest "$work/store$chunk/manifest" \
					--public "$work/key/provider.pub" "${from[@]:2*k:2}" \
					--esp-port $((20000 + k)) >/dev/null || break 2
			done
		fi
		# bounded: an ingest that does not finish within 30 s is left to the summary
		for _ in $(seq 600); do
			"$sp" swarm --keyring "$tag" list | grep "^$id " | grep -q ingesting || break
			sleep 0.05
		done
		"$sp" swarm --keyring "$tag" del "$id" >/dev/null || break
	done
	kill -INT "$lgp" 2>/dev/null || true
	stop_pair "$work/ilg-$chunk-$mode.out" "$dpid" "$lgp" 10
}

# io_ceiling BYTES: dpdk-testpmd io-forwarding the loadgen's flood back ($work/flood-BYTES.out).
io_ceiling() {
	local sock=$work/t.sock tp fl
	rm -f "$sock"
	# testpmd forwards on lcore 0; its main lcore 1 (shared with the loadgen) only waits for
	# the end of its stdin, which the sleep closes.
	# shellcheck disable=SC2046
	start_tp() {
		{ sleep $((secs + 4)) | timeout -s INT $((secs + 20)) dpdk-testpmd $(eal 0,1 tp) --main-lcore 1 \
			--vdev "net_memif0,$dp_memif,socket=$sock,$memif" \
			-- --forward-mode=io --port-topology=loop --auto-start --mbuf-size=9344 \
			--total-num-mbufs=16384 >"$work/tp-$1.out" 2>&1; } &
		tp=$!
		pids+=("$tp")
	}
	# shellcheck disable=SC2046
	start_flood() {
		timeout -s INT $((secs + 40)) "$lg" $(eal 1 lg) --vdev "net_memif0,$lg_memif,socket=$sock,$memif" \
			-- --flood "$1" --seconds "$secs" --linger $((secs + 10)) --link-wait 30 \
			>"$work/flood-$1.out" 2>&1 &
		fl=$!
		pids+=("$fl")
	}
	start_pair "start_tp $1" "start_flood $1" "$work/flood-$1.out"
	wait "$fl" 2>/dev/null || true
	wait_gone "$tp" $((secs + 10))
}

# dpdk-testpmd (Debian's dpdk-dev) measures the I/O ceiling; installed when root can.
if ! command -v dpdk-testpmd >/dev/null && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpdk-dev \
		>/dev/null 2>&1 || true
fi
have_testpmd=yes
command -v dpdk-testpmd >/dev/null || have_testpmd=no

# busy_pct: the share of both CPUs' time that was not idle over one second (others' load).
busy_pct() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
	echo "$a $b" | awk '{ t = ($3 - $1) + ($4 - $2); printf "%.0f", (t > 0 ? 100 * ($3 - $1) / t : 0) }'
}
busy_before=$(busy_pct)
taskset -c 0 "$build/bench/bench_crypto" \
	--benchmark_filter='BM_(gcm128_seal_burst32|gcm128_open_burst32|sha256_mb_burst32)/(1024|4096|8192)$' \
	--benchmark_min_time=0.5 \
	--benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
	--benchmark_format=csv 2>/dev/null >"$work/gcm.csv"

declare -A res io ing
for chunk in $chunks; do
	"$sp" pack --key "$work/key/provider.key" --chunk-size "$chunk" -o "$work/store$chunk" \
		"$work/content" >/dev/null
	for mode in plain esp; do
		if step serve; then
			serve "$chunk" "$mode"
			res[$chunk,$mode]=$(tail -1 "$work/lg-$chunk-$mode.out")
		fi
		if step ingest; then
			ingest "$chunk" "$mode"
			ing[$chunk,$mode]=$(tail -1 "$work/ilg-$chunk-$mode.out")
		fi
	done
	# An ESP chunk datagram: Ethernet, IPv4, UDP, ESP header + IV, inner UDP, PPSPP channel
	# + DATA header (21), the chunk, pad + pad length + next header (4), ICV.
	frame=$((14 + 20 + 8 + 16 + 8 + 21 + chunk + 4 + 16))
	io[$chunk]="$frame -"
	if [ $have_testpmd = yes ] && step serve; then
		io_ceiling "$frame"
		io[$chunk]="$frame $(tail -1 "$work/flood-$frame.out")"
	fi
	[ -n "${hold_chunk:-}" ] || { hold_chunk=$chunk; continue; } # kept for the hold step
	rm -rf "$work/store$chunk"
done
[ "$channels" -gt 0 ] && serve "$hold_chunk" plain hold
busy_after=$(busy_pct)

if [ "$workers" -gt 1 ]; then
	echo "superpeer-dataplane with $workers workers (lcores $dp_lcores, lcore@CPU) serving $peers superpeer-loadgen"
	echo "peers on $workers queues (lcores $lg_lcores), $((peers / workers)) or so per queue and worker;"
	[ "$sa_per_peer" = 1 ] && echo "through ESP an SA pair per peer;"
	[ "$overcommit" = yes ] && echo "WARNING: OVERCOMMIT: $((2 * workers)) busy lcores on $(nproc) CPUs: these figures show that it runs, they measure nothing."
else
	echo "superpeer-dataplane on lcore 0 (one worker) serving $peers superpeer-loadgen peers on CPU 1"
	[ "$sa_per_peer" = 1 ] && echo "(through ESP an SA pair per peer, SA_PER_PEER=1)"
fi
zc_note=
[ "$memif_mode" = zc ] && zc_note=" zero-copy: data plane and testpmd the client, only the loadgen copies"
echo "over net_memif ($memif$zc_note), a ${swarm_mib} MiB swarm, ${secs} s per row after 1 s of warm-up, $mem_note;"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs;" \
	"CPUs busy with other work: ${busy_before} % just before, ${busy_after} % just after."
if step serve; then
echo
ratio_head="served / min(ceilings)"
[ "$workers" -gt 1 ] && ratio_head="served / ($workers x min(ceilings))"
echo "| chunk | mode | served chunks/s | served Gbit/s | peers served | chunks lost | data plane drops | loadgen busy | I/O ceiling: testpmd io, same memif | crypto ceiling: GCM-128 seal burst | $ratio_head |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for chunk in $chunks; do
	for mode in plain esp; do
		drops=$(awk '/^drop / { sub(/:/, "", $2); printf "%s%s %s", sep, $2, $3; sep = ", " }' \
			"$work/dp-$chunk-$mode.out")
		awk -v c="$chunk" -v m="$mode" -v line="${res[$chunk,$mode]}" -v io="${io[$chunk]}" \
			-v drops="${drops:-0}" -v w="$workers" -F, '
			NR == 1 { for (i = 1; i <= NF; i++) if ($i == "bytes_per_second") col = i }
			$1 == "\"BM_gcm128_seal_burst32/" c "_median\"" { gcm = $col * 8 / 1e9 }
			END {
				cps = "?"; gb = "?"; peers = "?"; lost = "?"; busy = "?"
				if (match(line, /: [0-9]+ chunks\/s/))
					cps = substr(line, RSTART + 2, RLENGTH - 11)
				if (match(line, /, [0-9.]+ Gbit\/s/))
					gb = substr(line, RSTART + 2, RLENGTH - 9)
				if (match(line, /[0-9]+\/[0-9]+ peers/))
					peers = substr(line, RSTART, RLENGTH - 6)
				if (match(line, /chunks lost [0-9]+/))
					lost = substr(line, RSTART + 12, RLENGTH - 12)
				if (match(line, /busy [0-9]+ %/))
					busy = substr(line, RSTART + 5, RLENGTH - 5)
				split(io, f, " ")
				iog = -1; ioc = "not measured (no dpdk-testpmd)"
				if (match(io, /back [0-9.]+ Mpps/)) {
					mpps = substr(io, RSTART + 5, RLENGTH - 10)
					iog = mpps * 1e6 * c * 8 / 1e9
					ioc = sprintf("%.2f Mpps of %d-byte frames = %.1f Gbit/s of chunks", mpps, f[1], iog)
				}
				cc = m == "esp" ? sprintf("%.1f Gbit/s", gcm) : "–"
				lim = iog
				if (m == "esp" && (lim < 0 || gcm < lim))
					lim = gcm
				# Several workers: against that many times the ceilings of one core.
				ratio = (lim > 0 && gb != "?") ? sprintf("%.0f %%", 100 * gb / (lim * w)) : "–"
				printf "| %d B | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
					c, m == "esp" ? "ESP (AES-128-GCM)" : "plain", cps, gb, peers, lost,
					drops, busy, ioc, cc, ratio
			}' "$work/gcm.csv"
	done
done
fi
if step ingest; then
echo
src_note="one superpeer-loadgen --seed peer"
[ "$sources" -gt 1 ] && src_note="$sources superpeer-loadgen --seeds peers at once (its sources)"
echo "Ingest: the data plane (one worker, lcore 0) fetching the swarm from $src_note"
echo "(lcore 1), each chunk Merkle-verified before it is stored and ACKed; timed per"
echo "complete ingest from the first REQUEST to the last ACK, summed over the ingests that fit."
echo
echo "| chunk | mode | ingested chunks/s | ingested Gbit/s | ingests complete | bad chunks | loadgen busy | ceiling: GCM-128 open burst + SHA-256 multi-buffer | ingested / ceiling |"
echo "|---|---|---|---|---|---|---|---|---|"
for chunk in $chunks; do
	for mode in plain esp; do
		bad=$(awk '/^drop bad_chunk:/ { print $3 }' "$work/idp-$chunk-$mode.out")
		awk -v c="$chunk" -v m="$mode" -v line="${ing[$chunk,$mode]}" -v bad="${bad:-0}" -F, '
			NR == 1 { for (i = 1; i <= NF; i++) if ($i == "bytes_per_second") col = i }
			$1 == "\"BM_gcm128_open_burst32/" c "_median\"" { open = $col }
			$1 == "\"BM_sha256_mb_burst32/" c "_median\"" { sha = $col }
			END {
				cps = "?"; gb = "?"; runs = "?"; busy = "?"
				if (match(line, /: [0-9]+ ingests complete/))
					runs = substr(line, RSTART + 2, RLENGTH - 19)
				if (match(line, /: [0-9]+ chunks\/s/))
					cps = substr(line, RSTART + 2, RLENGTH - 11)
				if (match(line, /, [0-9.]+ Gbit\/s/))
					gb = substr(line, RSTART + 2, RLENGTH - 9)
				if (match(line, /busy [0-9]+ %/))
					busy = substr(line, RSTART + 5, RLENGTH - 5)
				# One core does both: the seconds per byte add up.
				ceil = -1
				if (sha > 0 && (m != "esp" || open > 0))
					ceil = 8 / 1e9 / (1 / sha + (m == "esp" ? 1 / open : 0))
				cc = ceil > 0 ? sprintf("%.1f Gbit/s%s", ceil, m == "esp" ? "" : " (SHA-256 alone)") : "?"
				ratio = (ceil > 0 && gb != "?") ? sprintf("%.0f %%", 100 * gb / ceil) : "–"
				printf "| %d B | %s | %s | %s | %s | %s | %s | %s | %s |\n", c,
					m == "esp" ? "ESP (AES-128-GCM)" : "plain", cps, gb, runs, bad, busy,
					cc, ratio
			}' "$work/gcm.csv"
	done
done
fi
echo
if [ "$workers" -gt 1 ] && step serve; then
	echo
	echo "Per worker (the data plane's summary at exit: its queue, chunks served over the whole run, load):"
	echo
	echo "| chunk | mode | per worker |"
	echo "|---|---|---|"
	for chunk in $chunks; do
		for mode in plain esp; do
			printf "| %d B | %s | %s |\n" "$chunk" "$([ "$mode" = esp ] && echo ESP || echo plain)" "$(awk '/^worker lcore / {
				sub(/:$/, "", $11); printf "%slcore %s (queue %s): %s chunks, busy %s %%", sep, $3, $11, $12, $5; sep = "; " }' \
				"$work/dp-$chunk-$mode.out")"
		done
	done
fi
echo
echo "loadgen busy: the share of the loadgen lcore's time spent on packets (the rest is empty"
echo "polls; with several queues, the busiest loop's); well under 100 % means the loadgen waits"
echo "for the data plane."
if [ "$channels" -gt 0 ]; then
	echo
	echo "Channels held at once: $channels loadgen peers, each its first 2 chunks of $hold_chunk bytes,"
	echo "then idle on its open channel, ${secs} s; the data plane counts open channels once a second."
	echo
	echo "| channels opened by the loadgen | held by the data plane (most at once) | peers holding an open channel | peer table (data plane's start line) | data plane drops |"
	echo "|---|---|---|---|---|"
	drops=$(awk '/^drop / { sub(/:/, "", $2); printf "%s%s %s", sep, $2, $3; sep = ", " }' "$work/hdp.out")
	printf "| %s | %s | %s | %s | %s |\n" "$channels" \
		"$(awk -F': ' '/^channels open at most/ { print $2 }' "$work/hdp.out")" \
		"$(sed -n 's/^loadgen: hold: \([0-9]*\) of.*/\1/p' "$work/hlg.out")" \
		"$(sed -n 's/^superpeer-dataplane: peer table \(.*\), [0-9]* mbufs.*/\1/p' "$work/hdp.out")" \
		"${drops:-0}"
fi
if [ "$busy_before" -gt 5 ] || [ "$busy_after" -gt 5 ]; then
	echo "WARNING: other processes were using the CPUs (${busy_before} % before, ${busy_after} %" \
		"after): they share these 2 CPUs with the measured lcores and lower every figure."
fi
