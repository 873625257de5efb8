# Sourced by the test scripts. `run_pytest <command...>`: runs a pytest command and passes its exit code on, except
# pytest's 5 ("no tests collected"), which here means a tier silently tested nothing: a failure.
run_pytest() {
  local code=0
  "$@" || code=$?
  if [ "$code" -eq 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; return 1; fi
  return "$code"
}
