#!/usr/bin/env bash
# Run the kind scenario where it can run; elsewhere print one line and succeed.
# It needs a docker daemon that answers, kind, and the kind node image already on the machine
# (KIND_CLUSTER_NODE_IMAGE, default below; keep it equal to the kind_cluster role's default).
# Extra arguments go to `molecule`, e.g. `run-or-skip.sh converge` (default: test).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
image=${KIND_CLUSTER_NODE_IMAGE:-kindest/node:v1.33.1}
export KIND_CLUSTER_NODE_IMAGE=$image

skip() {
    echo "SKIP molecule/default: $*"
    exit 0
}

command -v docker >/dev/null 2>&1 || skip "docker is not installed"
docker version >/dev/null 2>&1 || skip "the docker daemon does not answer"
command -v kind >/dev/null 2>&1 || skip "kind is not installed"
docker image inspect "$image" >/dev/null 2>&1 || skip "kind node image $image is not on this machine (docker pull $image)"

if [ -x "$root/.venv/bin/molecule" ]; then
    export PATH="$root/.venv/bin:$PATH"
fi
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$root/.build/collections}

cd "$root"
if [ "$#" -eq 0 ]; then
    set -- test
fi
exec molecule "$@" -s default
