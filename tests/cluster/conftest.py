"""Fixtures of the ``cluster`` suite: a real Kubernetes control plane (tests/cluster/cluster.py).

``bench_cluster`` starts one cluster per test session for examples/two-node and stops it at the
end, also when tests fail; tests get its kubeconfig, a kubectl and the audit journal of what the
API server accepted (kube_bench.BenchCluster). Where the binaries are not built and Go or the Go
module proxy is missing, every test of the suite skips with one line saying so; with ``CI=true``
that is a failure.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster  # noqa: E402 pylint: disable=wrong-import-position
from kube_bench import start_bench  # noqa: E402 pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def bench_cluster(tmp_path_factory):
    """One real control plane for the session (examples/two-node), stopped at the end."""
    workdir = str(tmp_path_factory.mktemp("bench") / "cluster")
    try:
        bench = start_bench(workdir)
        yield bench
    finally:
        cluster.down(workdir, log=lambda line: None, quiet_if_absent=True)
