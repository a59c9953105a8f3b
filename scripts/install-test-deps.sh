#!/usr/bin/env bash
# Installs what `make test` needs beyond Go modules: SIPp (Debian's sip-tester), baresip (the
# headless softphone of test/baresip; its recommends are GUI/video plugins the test does not load)
# and the npm packages of the ESL conformance harness. Idempotent; safe to run on every `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sipp >/dev/null 2>&1 || need_apt+=(sip-tester)
command -v baresip >/dev/null 2>&1 || need_apt+=(baresip)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # The image's apt hook deletes downloaded packages between dpkg runs, so a larger install can
  # fail once and pass on a rerun: try three times, then let dpkg say whether it is there.
  for try in 1 2 3; do
    if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"; then
      break
    fi
    echo "apt-get install ${need_apt[*]} failed (try $try), retrying" >&2
    sleep 2
  done
  for p in "${need_apt[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || { echo "could not install $p" >&2; exit 1; }
  done
fi

if [ -f test/modesl/package.json ] && command -v npm >/dev/null 2>&1; then
  if [ ! -d test/modesl/node_modules/modesl ]; then
    (cd test/modesl && { [ -f package-lock.json ] && npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })
  fi
fi
