#!/usr/bin/env bash
# THE test command (`npm test`): system packages, build, unit + e2e suites, then the keychain
# suite inside its own D-Bus session with a fresh, unlocked gnome-keyring. Every part runs even
# when an earlier one failed, so one run shows everything; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
step() { echo; echo "=== $* ==="; }

step "system packages"
bash scripts/install-system-deps.sh || { echo "install-system-deps failed" >&2; exit 1; }

# keytar is optional, so `npm install` run before libsecret-1-dev existed drops it silently
# (npm removes an optional dependency whose build failed). Now that the system packages are
# here, build it, or install it at the version package-lock.json pins; never fail because of it.
if [ ! -f node_modules/keytar/build/Release/keytar.node ]; then
  step "keytar (optional)"
  if [ -d node_modules/keytar ]; then
    npm rebuild keytar >/dev/null 2>&1 || true
  else
    keytar_version=$(node -p 'require("./package-lock.json").packages["node_modules/keytar"]?.version ?? ""' 2>/dev/null)
    [ -n "$keytar_version" ] && npm install --no-save --no-audit --no-fund "keytar@$keytar_version" >/dev/null 2>&1 || true
  fi
  if [ -f node_modules/keytar/build/Release/keytar.node ]; then echo "keytar built"; else echo "keytar could not be built; keychain via keytar unavailable"; fi
fi

step "build (tsc + bundle)"
npm run --silent build || failed+=("build")

# Run only compiled tests whose TypeScript source still exists: dist/ may hold stale output of
# deleted tests, and it is not wiped because other processes may be reading it.
compiled_tests() {
  local src
  for src in "$@"; do
    [ -f "$src" ] || continue
    local js="dist/${src%.ts}.js"
    [ -f "$js" ] && echo "$js"
  done
}
shopt -s nullglob
mapfile -t main_tests < <(compiled_tests test/unit/*.test.ts test/e2e/*.test.ts)
mapfile -t keychain_tests < <(compiled_tests test/keychain/*.test.ts)
shopt -u nullglob
# WASM_OCI_TEST_ONLY=REGEX runs only the test files whose path matches (e.g. `unit/|layout`):
# .ci/run uses it for the other Node versions, and a developer for one area.
if [ -n "${WASM_OCI_TEST_ONLY:-}" ]; then
  mapfile -t main_tests < <(printf '%s\n' "${main_tests[@]}" | grep -E -- "$WASM_OCI_TEST_ONLY" || true)
  mapfile -t keychain_tests < <(printf '%s\n' "${keychain_tests[@]}" | grep -E -- "$WASM_OCI_TEST_ONLY" || true)
  echo "WASM_OCI_TEST_ONLY=$WASM_OCI_TEST_ONLY: ${#main_tests[@]} + ${#keychain_tests[@]} files"
fi

node_test=(node --test --test-reporter=spec --test-timeout=300000)
summary_dir=$(mktemp -d)
trap 'rm -rf "$summary_dir"' EXIT

step "unit + e2e (${#main_tests[@]} files)"
if [ ${#main_tests[@]} -eq 0 ]; then
  echo "no test files found" >&2; failed+=("unit+e2e: none found")
else
  "${node_test[@]}" --test-concurrency=2 "${main_tests[@]}" 2>&1 | tee "$summary_dir/main.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("unit+e2e")
fi

step "keychain (${#keychain_tests[@]} files)"
if [ ${#keychain_tests[@]} -eq 0 ]; then
  echo "no keychain tests"
else
  # A fresh XDG_DATA_HOME: an old login keyring with another password would make the daemon
  # ask a prompter that does not exist here, and every store would fail with "locked collection".
  dbus-run-session -- bash -c '
    set -uo pipefail
    export XDG_DATA_HOME=$(mktemp -d)
    trap "rm -rf \"$XDG_DATA_HOME\"" EXIT
    eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
    export GNOME_KEYRING_CONTROL
    "$@"
  ' keychain "${node_test[@]}" --test-concurrency=1 "${keychain_tests[@]}" 2>&1 | tee "$summary_dir/keychain.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("keychain")
fi

# One closing line over both runs, in the plain form CI reads; it is the last line printed.
count() { cat "$summary_dir"/*.log 2>/dev/null | sed -n "s/^ℹ $1 \([0-9]*\)$/\1/p" | awk '{s+=$1} END {print s+0}'; }
echo
status=0
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  status=1
fi
# A test cancelled (a promise that never settled, a timeout) is a failure in this line too.
echo "tests: $(count pass) passed, $(( $(count fail) + $(count cancelled) )) failed, $(count skipped) skipped"
exit $status
