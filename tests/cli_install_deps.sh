#!/usr/bin/env bash
# cli_install_deps.sh (issue 14): scripts/install-deps.sh tells a held apt/dpkg lock from a missing
# network. A fake apt-get (first on a PATH where cmake and a compiler are missing) fails the way
# apt does in each case; the script must name the lock, or the network, accordingly.
# usage: cli_install_deps.sh RIDGELINE DATA_DIR (the script is found beside this test)
set -u
. "$(dirname "$0")/lib.sh"
SCRIPT=$(cd "$(dirname "$0")/.." && pwd)/scripts/install-deps.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir "$T/bin" "$T/cwd"
ln -s "$(command -v id)" "$T/bin/id"
fake_apt() { # the text apt-get prints on stderr, then exit 100
  printf '#!/bin/bash\necho "%s" >&2\nexit 100\n' "$1" >"$T/bin/apt-get"
  chmod +x "$T/bin/apt-get"
}
run() { (cd "$T/cwd" && PATH=$T/bin /bin/bash "$SCRIPT" 2>&1); }

fake_apt "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)"
out=$(run)
rc=$?
[ $rc -ne 0 ] && ok || bad "held lock: exit 0 although cmake is missing"
case "$out" in *"locked by another process"*"process 4242"*) ok ;; *) bad "held lock not named: $out" ;; esac
case "$out" in *"no network"*) bad "held lock reported as no network: $out" ;; *) ok ;; esac

fake_apt "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'"
out=$(run)
case "$out" in *"no network"*) ok ;; *) bad "missing network not named: $out" ;; esac
case "$out" in *"locked"*) bad "missing network reported as a lock: $out" ;; *) ok ;; esac

finish
