#!/usr/bin/env bash
# Create the project's virtual environment and collections path, from PyPI only.
# Idempotent: a second run with nothing changed does no network work.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
ansible_bundle_version="12.3.0"   # ships kubernetes.core 6.2.0 and ansible.utils

if [ ! -x .venv/bin/python ] || [ requirements-dev.txt -nt .venv/.installed ]; then
  "$python" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
  touch .venv/.installed
fi

collections=.build/collections/ansible_collections
mkdir -p "$collections/edgeops"
ln -sfn "$root" "$collections/edgeops/k8s_network"

if [ ! -d "$collections/kubernetes/core" ] || [ ! -d "$collections/ansible/utils" ]; then
  mkdir -p .cache
  wheel=".cache/ansible-${ansible_bundle_version}-py3-none-any.whl"
  if [ ! -f "$wheel" ]; then
    .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps \
      "ansible==${ansible_bundle_version}" -d .cache
  fi
  .venv/bin/python - "$wheel" .build/collections <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
wanted = ("ansible_collections/kubernetes/core/", "ansible_collections/ansible/utils/")
with zipfile.ZipFile(wheel) as zf:
    zf.extractall(dest, [n for n in zf.namelist() if n.startswith(wanted)])
PY
fi
