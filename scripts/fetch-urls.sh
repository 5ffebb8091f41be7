#!/usr/bin/env bash
# Produces the real URL data set: the string values of data/packages.json in
# the npm package all-the-package-repos, deduplicated (first occurrence kept),
# one per line. Writes OUT (default data/urls.txt) and prints its path.
# Exits non-zero when npm or node is unavailable or the download fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out=${1:-$MEMKV_ROOT/data/urls.txt}
if [ -s "$out" ]; then
    echo "$out"
    exit 0
fi
command -v npm >/dev/null && command -v node >/dev/null || {
    echo "fetch-urls: npm/node not found" >&2
    exit 1
}
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "downloading all-the-package-repos with npm pack"
(cd "$work" && npm pack --silent all-the-package-repos >/dev/null && tar xzf all-the-package-repos-*.tgz)
node -e '
const fs = require("fs");
const data = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const seen = new Set();
for (const v of Object.values(data))
  if (typeof v === "string" && !v.includes("\n")) seen.add(v);
fs.writeFileSync(process.argv[2], [...seen].join("\n") + "\n");
console.error(`${seen.size} distinct URLs`);
' "$work/package/data/packages.json" "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
