# device-steps.sh: the logged steps of the device check scripts (sourced after they set $out):
# every step's output in OUT/NAME.log, its command, exit status and time in OUT/steps.log.
log() { echo "$*" | tee -a "$out/steps.log"; }
: >"$out/steps.log"
# run_step NAME COMMAND...: runs the command; returns its exit status (a failure's last lines logged).
run_step() {
  local name=$1
  shift
  log "== $name: $*"
  local t0=$SECONDS
  "$@" >"$out/$name.log" 2>&1
  local rc=$?
  log "   exit $rc after $((SECONDS - t0)) s (log: $out/$name.log)"
  [ $rc -eq 0 ] || tail -n 20 "$out/$name.log" | tee -a "$out/steps.log"
  return $rc
}
