#!/usr/bin/env bash
# Every test: formatting, lints (native and wasm32), unit and integration tests
# per crate with its own features, then the browser tests against a release
# build in headless Chromium. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser
source scripts/env.sh
say() { printf '\n\033[1;34m==>\033[0m %s\n' "$*"; }

say "cargo fmt --check"
cargo fmt --all --check

say "clippy (native, then the browser side for wasm32)"
cargo clippy -p pushlab -p pushlab-server -p pushlab-bench --all-targets -- -D warnings
cargo clippy -p app --features ssr --all-targets -- -D warnings
cargo clippy -p pushlab -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

say "unit and integration tests"
cargo test -p pushlab
cargo test -p app --features ssr
cargo test -p pushlab-server
cargo test -p pushlab-bench

say "release build (what users run, and what the browser tests drive)"
bash scripts/release.sh
# The bundle's budget (issue 10): a regression fails here, not on a projector.
gz=$(stat -c %s target/site/pkg/pushlab.wasm.gz)
if (( gz > 300000 )); then
  echo "the dashboard's WASM is $gz bytes gzipped: over the 300,000-byte budget" >&2
  exit 1
fi

say "browser tests (Playwright, Debian Chromium)"
(cd end2end && npx playwright test)

say "the comparison harness, quick: pushlab and its peers through every scenario, no gaps"
bash bench/run.sh --quick

say "disk"
echo "target dir: $(du -sh target | cut -f1); free: $(df -h --output=avail . | tail -1 | tr -d ' ')"
