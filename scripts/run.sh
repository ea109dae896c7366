#!/usr/bin/env bash
# Installs what is missing, builds the release dashboard and server, and serves
# it at http://127.0.0.1:3000. Flags are passed to the server: run.sh --help.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/release.sh
LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD exec target/release/pushlab "$@"
