#!/usr/bin/env bash
# Prepares a copy of scimgateway (jelhub/scimgateway, tried with v6.1.18) for the `peer` benchmark:
#
#   benchmarks/peers/prepare-scimgateway.sh <scimgateway source dir>
#   benchmarks/peers/prepare-scimgateway.sh --git <git dir of scimgateway> <new dir> [ref]   # git archive, then as above
#
# then `SCIMGATEWAY_DIR=<dir> npm run bench -- --only peer`.
#
# scimgateway is not on the npm registry, so its source comes from elsewhere (a clone or a release tarball).
# This installs its runtime dependencies in that directory (npm, production only). Its postinstall script
# needs Bun and only copies plugins and config files into a parent project when scimgateway is installed as a
# dependency; a source directory needs none of that, so scripts are not run. On Node < 22.6 (no
# --experimental-strip-types) the benchmark runs its TypeScript under tsx, one of its own dependencies.
# Nothing is written outside the given directory.
set -euo pipefail

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

if [ "${1:-}" = "--git" ]; then
  [ $# -ge 3 ] || usage
  git_dir=$2; dest=$3; ref=${4:-HEAD}
  [ ! -e "$dest" ] || { echo "$dest exists already; give a new directory" >&2; exit 1; }
  mkdir -p "$dest"
  git -C "$git_dir" archive "$ref" | tar -x -C "$dest"
  src=$dest
else
  [ $# -eq 1 ] || usage
  src=$1
fi

src=$(cd "$src" && pwd)
for f in package.json lib/scimgateway.ts lib/plugin-loki.ts tsconfig.json; do
  [ -f "$src/$f" ] || { echo "$src does not look like scimgateway's source: no $f" >&2; exit 1; }
done
name=$(node -p "require('$src/package.json').name")
[ "$name" = "scimgateway" ] || { echo "$src/package.json names $name, not scimgateway" >&2; exit 1; }
version=$(node -p "require('$src/package.json').version")

echo "installing scimgateway $version's dependencies in $src (production only, no install scripts)" >&2
(cd "$src" && npm install --omit=dev --ignore-scripts --no-audit --no-fund)

# tsx's esbuild ships its binary as an optional dependency (@esbuild/<platform>): check that it transpiles.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'const n: number = 1\nconsole.log(`tsx ok ${n}`)\n' > "$probe/probe.ts"
(cd "$src" && node --import ./node_modules/tsx/dist/loader.mjs "$probe/probe.ts") >/dev/null
(cd "$src" && node -e "require('lokijs')")

echo "ready: SCIMGATEWAY_DIR=$src npm run bench -- --only peer" >&2
