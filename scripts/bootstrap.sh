#!/usr/bin/env bash
# Create the project's virtual environment and collections path, from PyPI only.
# Idempotent: a second run with nothing changed does no network work.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
ansible_bundle_version="12.3.0"   # ships kubernetes.core 6.2.0 and ansible.utils

# ansible-core 2.19 needs Python 3.11 or later. Debian's python3 ships venv/ensurepip in a
# separate package; as root on a bare machine, install it rather than stop.
check_python() {
  "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || {
    echo "bootstrap: $python is missing or older than 3.11 (set PYTHON=...)" >&2
    exit 1
  }
  "$python" -c 'import venv, ensurepip' 2>/dev/null
}

if [ ! -x .venv/bin/python ] || [ requirements-dev.txt -nt .venv/.installed ]; then
  if ! check_python; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      echo "bootstrap: installing python3-venv"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    fi
    check_python || {
      echo "bootstrap: $python lacks venv/ensurepip; install python3-venv" >&2
      exit 1
    }
  fi
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
