#!/usr/bin/env bash
# Installs what superpeer needs to build, test and benchmark on Debian 12, then configures and
# builds the default build directory. Safe to run again: installed packages are skipped.
#
#   scripts/setup.sh            packages + build/ (debugoptimized)
#   SUPERPEER_SKIP_APT=1 ...    skip the package step (a machine you maintain yourself)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
	# build
	gcc g++ meson ninja-build pkg-config
	# libraries (DESIGN.md §4)
	libdpdk-dev libipsec-mb-dev libssl-dev libjansson-dev libinih-dev
	# benchmarks and fuzzing
	libbenchmark-dev clang libclang-rt-14-dev
	# tests and tools the scripts call; scapy and tshark are the independent ESP peers
	openssl python3 time python3-scapy tshark iproute2 libpcap-dev ethtool iputils-ping
)

if [ "${SUPERPEER_SKIP_APT:-0}" != 1 ]; then
	missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "setup: missing packages (${missing[*]}); run as root to install them" >&2
			exit 1
		fi
		echo "setup: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
fi

# build/: the configuration the demo and the plain test run use.
if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=debugoptimized
fi
ninja -C build
