# lib.sh: shared helpers of the CLI tests (sourced). Counts passes and failures; `finish` prints
# the closing "N passed, N failed" line and returns non-zero on any failure.
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }
# expect_ok DESCRIPTION COMMAND...: the command succeeds; its output (stdout + stderr) is in $out.
expect_ok() {
  local d=$1; shift
  if out=$("$@" 2>&1); then ok; else bad "$d: exit $? : $out"; fi
}
# expect_err DESCRIPTION FRAGMENT COMMAND...: a non-zero exit without a crash, and exactly one line
# of error that contains FRAGMENT.
expect_err() {
  local d=$1 frag=$2; shift 2
  out=$("$@" 2>&1)
  local rc=$?
  if [ $rc -eq 0 ]; then bad "$d: expected failure, got exit 0"; return; fi
  if [ $rc -ge 128 ]; then bad "$d: crashed (exit $rc)"; return; fi
  if [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then bad "$d: expected a one-line error, got: $out"; return; fi
  case "$out" in *"$frag"*) ok ;; *) bad "$d: message lacks '$frag': $out" ;; esac
}
# wait_for_point RESULTS.json: waits (up to 60 s) until a running lab has written its first point.
wait_for_point() {
  for _ in $(seq 1 600); do
    grep -q '"sweep":' "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# check_interrupted SIGNAL RC WANT_RC RESULTS.json ERRFILE: a lab stopped by SIGNAL exited WANT_RC
# and kept 1..60 of its 61 points, marked interrupted.
check_interrupted() {
  local sig=$1 rc=$2 want=$3 res=$4 errf=$5 n
  [ "$rc" -eq "$want" ] && ok || bad "$sig: exit $rc, want $want ($(tail -n 3 "$errf"))"
  n=$(grep -c '"sweep":' "$res" 2>/dev/null || echo 0)
  [ "$n" -ge 1 ] && [ "$n" -lt 61 ] && ok || bad "$sig: $n points kept, want 1..60"
  grep -q '"interrupted":[[:space:]]*true' "$res" && ok || bad "$sig: interrupted flag not set"
}
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
