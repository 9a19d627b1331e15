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
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
