#!/usr/bin/env bash
# Installs what building, running and testing pushlab needs, skipping what is
# already there. Safe to run again. `--with-browser` also installs Chromium and
# the Playwright test runner (for the browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${PUSHLAB_TOOLS:-$HOME/.cache/pushlab-tools}"
CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=123.0.0 # 132 and Debian's 108 emit a release WASM that fails to hydrate
with_browser=false
[[ "${1:-}" == "--with-browser" ]] && with_browser=true

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

export PATH="$HOME/.cargo/bin:$TOOLS/node_modules/.bin:$PATH"

if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install Rust (rustup) first" >&2
  exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (10–13 min, once)"
  # It asks for Rust 1.96; it builds and works on 1.95. Thin builds keep it under 15 min on 2 cores.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads --ignore-rust-version
fi

# wasm-bindgen must be exactly the version in Cargo.lock.
wbg=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ]]; then
  say "installing wasm-bindgen-cli $wbg (about 4 min, once)"
  cargo install wasm-bindgen-cli --version "$wbg"
fi

# A private prefix, so Debian's older binaryen in /usr/bin cannot shadow or block it.
if [[ "$(wasm-opt --version 2>/dev/null)" != *"version ${BINARYEN_VERSION%%.*}"* ]]; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION) into $TOOLS"
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null
fi

# Debian's packages: Redis and nginx for many instances (the cluster tests,
# scripts/cluster.sh, scripts/proxy.sh), zopfli for the release's gzip,
# Chromium for the browser tests. One apt-get for all.
packages=()
command -v zopfli >/dev/null || packages+=(zopfli)
command -v redis-server >/dev/null || packages+=(redis-server)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || packages+=(nginx-light)
if $with_browser && [[ ! -x /usr/bin/chromium ]]; then packages+=(chromium); fi
if ((${#packages[@]})); then
  say "installing Debian's ${packages[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null
fi

if $with_browser; then
  if [[ ! -x end2end/node_modules/.bin/playwright ]]; then
    say "installing the Playwright test runner (end2end/)"
    (cd end2end && npm ci --no-audit --no-fund >/dev/null)
  fi
fi
say "tools ready: $(cargo leptos --version), $(wasm-bindgen --version), $(wasm-opt --version)"
