#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs formatting,
# lints, every test, and the independent demo-data checker. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# One shared target directory outside the clone, so repeat runs (and CI) reuse the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
export CARGO_TERM_COLOR=never

apt_install() {
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing ${need_apt[*]}"
  apt_install "${need_apt[@]}"
fi

# moto's server for the AWS responder tests (tests/moto_*.rs): a pinned moto[server] in a venv outside
# the clone. The tests fail (they do not skip) when it cannot start.
MOTO_VERSION="5.2.5"
MOTO_VENV="${VIGIL_MOTO_VENV:-$HOME/.cache/vigil-moto-venv}"
if ! "$MOTO_VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" >/dev/null 2>&1; then
  echo "==> installing moto[server]==$MOTO_VERSION into $MOTO_VENV"
  python3 -m venv "$MOTO_VENV" || { apt_install python3-venv && python3 -m venv "$MOTO_VENV"; }
  "$MOTO_VENV/bin/pip" install -q "moto[server]==$MOTO_VERSION"
fi
export VIGIL_MOTO_PYTHON="$MOTO_VENV/bin/python"

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
echo "==> cargo test"
cargo test --all-targets --quiet 2>&1 | tee "${CARGO_TARGET_DIR}/last-test.log"
# --all-targets leaves doctests out; the compile-fail proof that a read-only session has no path
# to a mutating call is one.
echo "==> cargo test --doc"
cargo test --doc --quiet 2>&1 | tee -a "${CARGO_TARGET_DIR}/last-test.log"
if [ -f tools/demo-gen/check_scenarios.py ] && [ -d demo ] && ls demo/*/scenario.toml >/dev/null 2>&1; then
  echo "==> demo scenario consistency (independent Python check)"
  python3 tools/demo-gen/check_scenarios.py
fi
echo "==> all checks passed"
