#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined): the safetensors and
# config.json parsers, the report's CSV importer and its results.json reader; runs each for a
# bounded time on its seed corpus. Exit 77 (a skipped CTest test) where clang or its libFuzzer
# runtime is missing; exit 1 on a crash, leak, sanitizer report or refused-without-message input.
# usage: run.sh SRC_DIR OUT_DIR [SECONDS_EACH] [CJSON_INCLUDE_DIR] [CJSON_LIBRARY]
set -u
SRC=$(cd "$1" && pwd)
OUT=$2
SECS=${3:-20}
CJSON_INC=${4:-}
CJSON_LIB=${5:-}
CC=${FUZZ_CC:-clang}
mkdir -p "$OUT"
if ! command -v "$CC" >/dev/null; then
  echo "SKIP: $CC not found (apt-get install clang libclang-rt-14-dev) - fuzz targets not run"
  exit 77
fi
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
  >"$OUT/probe.c"
if ! "$CC" -fsanitize=fuzzer "$OUT/probe.c" -o "$OUT/probe" 2>"$OUT/probe.log"; then
  echo "SKIP: $CC has no libFuzzer runtime (apt-get install libclang-rt-14-dev) - fuzz targets not run"
  exit 77
fi
# cJSON: the path CMake found, else the carried prefix, else the system's.
if [ -z "$CJSON_INC" ]; then
  if [ -f "$SRC/.deps/prefix/usr/include/cjson/cJSON.h" ]; then CJSON_INC=$SRC/.deps/prefix/usr/include; else CJSON_INC=/usr/include; fi
fi
if [ -z "$CJSON_LIB" ]; then
  CJSON_LIB=-lcjson
  [ -d "$SRC/.deps/prefix/usr/lib/x86_64-linux-gnu" ] && CJSON_LIB="-L$SRC/.deps/prefix/usr/lib/x86_64-linux-gnu -lcjson"
fi
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -I$SRC/src -I$CJSON_INC"
COMMON="$SRC/src/common/util.c $SRC/src/common/fileio.c $SRC/src/common/err.c"
MODEL_SRC="$SRC/src/model/weights.c $SRC/src/model/config.c $SRC/src/model/spec.c $SRC/src/model/presets.c $COMMON"
# The report reader goes through the one results model (measure) and the cost model (predict).
REPORT_SRC="$SRC/src/report/load.c $SRC/src/hw/gpu_table.c $SRC/src/measure/results.c $SRC/src/measure/results_fields.c
  $SRC/src/measure/results_read.c $SRC/src/predict/predict.c $SRC/src/predict/launch_plan.c $SRC/src/model/spec.c $SRC/src/model/tp.c
  $SRC/src/model/config.c $SRC/src/model/presets.c $SRC/src/model/rope.c $SRC/src/common/stats.c $COMMON"
status=0
# target, its sources, the longest input (results files are larger than headers and rows)
for spec in "safetensors:MODEL_SRC:4096" "config:MODEL_SRC:4096" "csv:REPORT_SRC:4096" "results:REPORT_SRC:32768"; do
  IFS=: read -r t srcvar maxlen <<<"$spec"
  # shellcheck disable=SC2086
  if ! "$CC" $FLAGS "$SRC/tests/fuzz/fuzz_$t.c" ${!srcvar} $CJSON_LIB -lm -o "$OUT/fuzz_$t" 2>"$OUT/build_$t.log"; then
    echo "FAIL: building fuzz_$t:"; cat "$OUT/build_$t.log"
    status=1
    continue
  fi
  mkdir -p "$OUT/corpus_$t"
  echo "fuzz_$t: ${SECS}s on $(ls "$SRC/tests/fuzz/corpus/$t" | wc -l) seeds + $(ls "$OUT/corpus_$t" | wc -l) found earlier"
  # New inputs go to OUT/corpus_$t (kept between runs); the committed seeds are read only.
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$OUT/fuzz_$t" -max_total_time="$SECS" \
      -max_len="$maxlen" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -dict="$SRC/tests/fuzz/$t.dict" \
      -artifact_prefix="$OUT/crash_$t-" "$OUT/corpus_$t" "$SRC/tests/fuzz/corpus/$t" >"$OUT/run_$t.log" 2>&1; then
    echo "FAIL: fuzz_$t found a problem; the input is saved as $OUT/crash_$t-*:"
    tail -n 40 "$OUT/run_$t.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$OUT/run_$t.log" | tr -s ' ' | sed 's/^/  /'
  fi
done
exit $status
