#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs formatting,
# lints, every test, and the independent demo-data checker. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# One shared target directory outside the clone, so repeat runs (and CI) reuse the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
export CARGO_TERM_COLOR=never

need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
echo "==> cargo test"
cargo test --all-targets --quiet 2>&1 | tee "${CARGO_TARGET_DIR}/last-test.log"
if [ -f tools/demo-gen/check_scenarios.py ] && [ -d demo ] && ls demo/*/scenario.toml >/dev/null 2>&1; then
  echo "==> demo scenario consistency (independent Python check)"
  python3 tools/demo-gen/check_scenarios.py
fi
echo "==> all checks passed"
