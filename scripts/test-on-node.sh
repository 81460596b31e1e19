#!/bin/sh
# Runs the test suite, already built by `npm test` on the default Node.js, once more on another
# Node.js major line. The binary comes from the npm registry's node-<os>-<arch> package (npx
# caches it; nothing is downloaded from elsewhere), so CI needs no version manager.
#   sh scripts/test-on-node.sh 24            # the whole suite on Node.js 24
#   sh scripts/test-on-node.sh 22 test/store # one folder on Node.js 22
set -eu
major="${1:?usage: scripts/test-on-node.sh MAJOR [vitest arguments]}"
shift

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "test-on-node: no node-<os>-<arch> package for $(uname -s); run the suite on Node.js $major by hand" >&2; exit 2 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "test-on-node: no node-$os-<arch> package for $(uname -m); run the suite on Node.js $major by hand" >&2; exit 2 ;;
esac

# Inside, `node` on PATH is the package's binary: vitest, its workers and the CLI tests (which
# spawn process.execPath) all run on it. The first line checks that they really do.
exec npx --yes -p "node-$os-$arch@$major" -- sh -c '
  v="$(node -p process.versions.node)"
  case "$v" in "$0".*) ;; *) echo "test-on-node: expected Node.js $0, PATH gives $v" >&2; exit 2 ;; esac
  echo "test-on-node: Node.js $v"
  exec npx vitest run "$@"
' "$major" "$@"
