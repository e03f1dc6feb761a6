#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the working tree.
#
# ansible-test wants the collection at a real .../ansible_collections/edgeops/k8s_network
# path, not through a symlink, so the tree (tracked files plus uncommitted work) is copied to
# .build/ansible-test/ansible_collections/edgeops/k8s_network. Extra arguments go to
# ansible-test, e.g. `scripts/sanity.sh --test pep8`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python_version="${SANITY_PYTHON:-3.11}"
export PATH="$root/.venv/bin:$PATH"

# The project's rule: sanity passes with no ignore file at all.
shopt -s nullglob
ignores=(tests/sanity/ignore*.txt)
shopt -u nullglob
if [ "${#ignores[@]}" -gt 0 ]; then
  echo "sanity: ignore files are not allowed here: ${ignores[*]}" >&2
  exit 1
fi

# Engineers share this checkout: a second run would delete the copy under the first one's
# feet (and race on ansible-test's virtual environments), so runs take turns.
mkdir -p "$root/.build"
exec 9>"$root/.build/ansible-test.lock"
flock 9

tree="$root/.build/ansible-test/ansible_collections"
dest="$tree/edgeops/k8s_network"
rm -rf "$dest"
mkdir -p "$dest"

# Copy what git would commit (tracked plus untracked-but-not-ignored, minus deletions);
# outside a git work tree fall back to copying everything but the build caches.
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$root" ls-files -z --cached --others --exclude-standard \
    | python3 -c '
import os, sys
names = [n for n in sys.stdin.buffer.read().split(b"\0") if n]
sys.stdout.buffer.write(b"".join(n + b"\0" for n in names if os.path.lexists(n)))
' \
    | tar -C "$root" --null -T - -cf - \
    | tar -C "$dest" -xf -
else
  tar -C "$root" -cf - \
    --exclude=./.venv --exclude=./.build --exclude=./.cache --exclude=./.git \
    --exclude=./collections --exclude=./tests/output --exclude='__pycache__' . \
    | tar -C "$dest" -xf -
fi

# The copy lies inside this checkout's work tree, where git (and so ansible-test) sees it as
# ignored build output; its own repository makes ansible-test list the copied files.
git init -q "$dest"

# Dependencies sit beside the collection so that the import test can resolve them.
for ns in kubernetes ansible; do
  if [ -d "$root/.build/collections/ansible_collections/$ns" ]; then
    ln -sfn "$root/.build/collections/ansible_collections/$ns" "$tree/$ns"
  fi
done

# ansible-test downloads get-pip-<version>.py to bootstrap pip in its virtual environments;
# that host is unreachable, so a stand-in goes where it looks first. The version is the one
# this ansible-test pins (24.2 for core 2.19, 25.2 for 2.21).
pip_versions="$(python3 - <<'PY'
import re
try:
    import ansible_test._internal.python_requirements as pr
    text = open(pr.__file__).read()
    found = sorted(set(re.findall(r"pip='([0-9.]+)'", text)))
except Exception:
    found = []
print(" ".join(found or ["24.2"]))
PY
)"
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
for v in $pip_versions; do
  install -m 0644 "$root/scripts/get_pip_standin.py" "$cache/get_pip_${v//./_}.py"
done

cd "$dest"
exec ansible-test sanity --python "$python_version" --color no "$@"
