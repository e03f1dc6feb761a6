#!/usr/bin/env bash
# Build the collection tarball, install it the way a user would (offline: Galaxy is not
# reachable, and kubernetes.core comes from .build/collections), and have ansible-doc render
# every module, filter and role from the installed copy, not from this checkout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$root/.venv/bin:$PATH"

# Engineers share this checkout: runs take turns rather than delete each other's output.
mkdir -p "$root/.build"
exec 9>"$root/.build/build-check.lock"
flock 9

work="$root/.build/build-check"
dist="$root/.build/dist"
installed="$work/collections"
rm -rf "$work" "$dist"
mkdir -p "$work" "$dist" "$installed/ansible_collections"

echo "build-check: scripts/build.sh (ansible-galaxy collection build of the files git tracks)"
tarball="$("$root/scripts/build.sh" "$dist")"

# Files that only exist because someone ran tools here must never ship.
junk="$(tar -tzf "$tarball" | grep -E \
  '^(\./)?(\.venv|\.build|\.cache|\.git|collections|tests/output|\.pytest_cache|\.hypothesis|\.benchmarks|bundle)(/|$)|(^|/)__pycache__(/|$)|\.pyc$' \
  || true)"
if [ -n "$junk" ]; then
  echo "build-check: the tarball holds build or cache output; add it to build_ignore in galaxy.yml:" >&2
  printf '%s\n' "$junk" >&2
  exit 1
fi

echo "build-check: ansible-galaxy collection install --offline --no-deps"
# The scratch path is the configured one, as for a user who installs into their own path.
ANSIBLE_COLLECTIONS_PATH="$installed" ansible-galaxy collection install --offline --no-deps --force -p "$installed" "$tarball"
dest="$installed/ansible_collections/edgeops/k8s_network"
test -f "$dest/MANIFEST.json"

# The installed copy must be the only edgeops.k8s_network in sight: dependencies are linked
# in beside it rather than adding .build/collections (which links this checkout) to the path.
for ns in kubernetes ansible; do
  if [ -d "$root/.build/collections/ansible_collections/$ns" ]; then
    ln -sfn "$root/.build/collections/ansible_collections/$ns" "$installed/ansible_collections/$ns"
  fi
done
export ANSIBLE_COLLECTIONS_PATH="$installed"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
# No ansible.cfg from the checkout: run from the scratch folder.
cd "$work"

# What the installed collection holds, by file; ansible-doc's own listing is added so that a
# plugin it knows but that has no file of that name (a second filter in one file) is seen too.
names() {  # kind, folder
  local kind="$1" dir="$dest/$2"
  {
    if [ -d "$dir" ]; then
      find "$dir" -maxdepth 1 -type f \( -name '*.py' -o -name '*.yml' -o -name '*.yaml' \) \
        ! -name '_*' -printf '%f\n' | sed -E 's/\.(py|ya?ml)$//'
    fi
    ansible-doc -t "$kind" -l edgeops.k8s_network --json 2>/dev/null \
      | python3 -c 'import json, sys; [print(k.split(".")[-1]) for k in json.load(sys.stdin)]' \
      || true
  } | sort -u
}

failed=0
checked=0
check_doc() {  # kind, short name
  local kind="$1" fqcn="edgeops.k8s_network.$2" out
  checked=$((checked + 1))
  if ! out="$(ansible-doc -t "$kind" --json "$fqcn" 2>&1)"; then
    echo "FAILED ansible-doc -t $kind $fqcn" >&2
    printf '%s\n' "$out" >&2
    failed=$((failed + 1))
    return
  fi
  # ansible-doc can exit 0 with an empty answer for a plugin it could not load.
  if ! printf '%s' "$out" | python3 -c '
import json, sys
fqcn, doc = sys.argv[1], json.load(sys.stdin)
entry = doc.get(fqcn) or {}
# Plugins render under "doc", roles under "entry_points".
sys.exit(0 if (entry.get("doc") or entry.get("entry_points")) else 1)
' "$fqcn"; then
    echo "FAILED ansible-doc -t $kind $fqcn: no documentation rendered" >&2
    failed=$((failed + 1))
    return
  fi
  echo "ok     ansible-doc -t $kind $fqcn"
}

for m in $(names module plugins/modules); do check_doc module "$m"; done
for f in $(names filter plugins/filter); do check_doc filter "$f"; done
if [ -d "$dest/roles" ]; then
  for spec in "$dest"/roles/*/meta/argument_specs.y*ml; do
    [ -e "$spec" ] || continue
    role="$(basename "$(dirname "$(dirname "$spec")")")"
    check_doc role "$role"
  done
fi

if [ "$checked" -eq 0 ]; then
  echo "build-check: the installed collection documents nothing" >&2
  exit 1
fi
if [ "$failed" -gt 0 ]; then
  echo "build-check: $failed of $checked ansible-doc checks failed" >&2
  exit 1
fi
echo "build-check: $(basename "$tarball") installs; $checked plugins and roles documented"
