#!/usr/bin/env bash
# Packs the Debian packages the GPU machine lacks (cJSON) so they can travel with the tree:
#   here (with internet):     scripts/carry-deps.sh download   -> .deps/deb/*.deb
#   there (no internet):      scripts/carry-deps.sh unpack     -> .deps/prefix (CMake finds it)
# .deps/ is ignored by git (.git/info/exclude); name it in the device tool's `carry`.
set -eu
cd "$(dirname "$0")/.."
case "${1:-}" in
  download)
    mkdir -p .deps/deb
    grep -qx '/.deps/' .git/info/exclude 2>/dev/null || echo '/.deps/' >> .git/info/exclude
    (cd .deps/deb && apt-get download libcjson1 libcjson-dev)
    ls -l .deps/deb ;;
  unpack)
    mkdir -p .deps/prefix
    for f in .deps/deb/*.deb; do dpkg -x "$f" .deps/prefix; done
    # The -dev package's libcjson.so points at the runtime library; keep the link relative.
    ls .deps/prefix/usr/lib/x86_64-linux-gnu/ ;;
  *) echo "usage: scripts/carry-deps.sh download|unpack" >&2; exit 2 ;;
esac
