#!/usr/bin/env bash
# Build the collection tarball from the files git tracks, with their uncommitted edits, so that
# nothing else lying in the checkout ships: a site bundle or a Corefile written while following
# a guide, caches, a second tarball. `ansible-galaxy collection build` on the checkout itself
# packs every file that build_ignore in galaxy.yml does not name.
#
#   scripts/build.sh [OUTPUT_DIR]     (default .build/dist; prints the tarball's path)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/.build/dist}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"

if ! git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "build: $root is not a git checkout; building the folder as it is" >&2
  ansible-galaxy collection build --force --output-path "$out" "$root" >&2
else
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' EXIT
  # Tracked files that still exist (a deleted but not yet committed file is left out).
  git ls-files -z --cached | while IFS= read -r -d '' path; do
    if [ -e "$path" ] || [ -L "$path" ]; then
      mkdir -p "$stage/$(dirname "$path")"
      cp -P "$path" "$stage/$path"
    fi
  done
  ansible-galaxy collection build --force --output-path "$out" "$stage" >&2
fi
version="$(sed -n 's/^version: *//p' "$root/galaxy.yml")"
echo "$out/edgeops-k8s_network-$version.tar.gz"
