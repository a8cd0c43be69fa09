#!/usr/bin/env bash
# Runs the unit tests (the pure core and its API) under every other supported Node.js major.
# The default `node` (20) runs the whole suite via `npm test`; this covers 22, 24 and 26.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- 22 24 26
for major in "$@"; do
  bin=$(scripts/install-node.sh "$major")
  echo "== unit tests on Node $("$bin" --version)"
  "$bin" node_modules/vitest/vitest.mjs run test/unit --reporter=dot
done
