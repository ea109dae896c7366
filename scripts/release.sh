#!/usr/bin/env bash
# The release build users run: the server, the site, and the dashboard's WASM
# precompressed (gzip, brotli) so it crosses the network at a third of its
# size. Prints the bundle's sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo leptos build --release --precompress
wasm=target/site/pkg/pushlab.wasm
# cargo-leptos gzips at a fast level; browsers on plain http:// (a workshop
# LAN) accept only gzip, so spend the time once here: zopfli writes the same
# gzip format 4 % smaller than gzip -9.
for f in "$wasm" target/site/pkg/pushlab.js; do
  if command -v zopfli >/dev/null; then zopfli "$f"; else gzip -9 -k -f "$f"; fi
done
echo "release WASM: $(stat -c %s "$wasm") bytes raw, $(stat -c %s "$wasm.gz") gzipped, $(stat -c %s "$wasm.br") brotli"
