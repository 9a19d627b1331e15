#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test ridgeline:
#   build-essential cmake (compiler, build), libcjson-dev (JSON), gnuplot-nox (charts),
#   clang + libclang-rt-14-dev (libFuzzer, sanitizers), python3 (golden-data script, optional).
# On a machine without internet (the GPU machine), the carried prefix .deps/prefix is used instead
# (see scripts/carry-deps.sh). --check-only: exit 1 if something required is missing, install nothing.
set -u
need=()
have_hdr() { [ -f "/usr/include/$1" ] || [ -f ".deps/prefix/usr/include/$1" ]; }
command -v cmake >/dev/null || need+=(cmake)
command -v cc >/dev/null || need+=(build-essential)
have_hdr cjson/cJSON.h || need+=(libcjson-dev)
optional=()
command -v gnuplot >/dev/null || optional+=(gnuplot-nox)
command -v clang >/dev/null || optional+=(clang)
[ -d /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux ] || [ ! -d /usr/lib/llvm-14 ] || optional+=(libclang-rt-14-dev)
if [ "${1:-}" = "--check-only" ]; then
  [ ${#need[@]} -eq 0 ] && exit 0
  exit 1
fi
if [ ${#need[@]} -eq 0 ] && [ ${#optional[@]} -eq 0 ]; then exit 0; fi
# A carried prefix means an offline machine (scripts/carry-deps.sh): don't wait on a network that is not there.
if [ ${#need[@]} -eq 0 ] && [ -d .deps/prefix ]; then
  echo "install-deps: offline (carried .deps/prefix); optional packages not installed: ${optional[*]}" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  [ ${#need[@]} -eq 0 ] && { echo "install-deps: optional packages missing (no apt-get): ${optional[*]}" >&2; exit 0; }
  echo "install-deps: missing ${need[*]}: install them with your package manager" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO=sudo
echo "install-deps: apt-get install ${need[*]} ${optional[*]}" >&2
# apt waits up to a minute for a lock another process holds (unattended-upgrades, a second
# install); its messages decide what to tell the user: a held lock is not a missing network.
apt_log=$( { $SUDO apt-get -o DPkg::Lock::Timeout=60 update -qq &&
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=60 install -y -qq "${need[@]}" "${optional[@]}" \
    >/dev/null; } 2>&1)
apt_rc=$?
if [ $apt_rc -ne 0 ]; then
  case "$apt_log" in
    *"Could not get lock"*|*"Unable to acquire the dpkg frontend lock"*|*"Unable to lock"*|*"is held by process"*)
      lock_line=""
      while IFS= read -r l; do case "$l" in *lock*) lock_line=$l; break ;; esac; done <<<"$apt_log"
      why="apt/dpkg is locked by another process ($lock_line): wait for it to finish (unattended-upgrades?) and run again" ;;
    *"Temporary failure resolving"*|*"Could not resolve"*|*"Network is unreachable"*|*"Failed to fetch"*|*"Could not connect"*)
      why="no network: run scripts/carry-deps.sh where there is one and carry .deps" ;;
    *) why="apt-get failed (exit $apt_rc): ${apt_log##*$'\n'}" ;;
  esac
  if [ ${#need[@]} -eq 0 ]; then
    echo "install-deps: could not install optional ${optional[*]}: $why; continuing without" >&2
    exit 0
  fi
  echo "install-deps: could not install ${need[*]}: $why" >&2
  [ -d .deps/prefix ] && exit 0 # the carried prefix has what the build needs
  exit 1
fi
