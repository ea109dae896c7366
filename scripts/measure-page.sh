#!/usr/bin/env bash
# Measures the dashboard at 1000 events/s over SSE, WebSocket and long polling
# in headless Chromium: the page's p50 beside a bare client's in the same run,
# and how long a click takes to answer. Figures go in docs/PAGE.md.
# Needs the release build (scripts/release.sh) and the browser tools (setup.sh --with-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
seconds="${1:-20}"
(cd end2end && PUSHLAB_MEASURE_S="$seconds" npx playwright test rate.spec.ts --reporter=list) 2>&1 |
  tee /tmp/pushlab-measure-page.log | grep -E "at 1000/s:|passed|failed"
