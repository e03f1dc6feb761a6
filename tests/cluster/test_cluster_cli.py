"""tests/cluster/cluster.py and build.py as `make cluster-up` / `make cluster-down` run them.

Server: each test that starts a cluster starts its own (real control plane, kwok nodes) in its
own work folder, apart from the session's bench. Bad input ends with one line and leaves
nothing running; up and down may be repeated; a cluster whose processes died is replaced.
"""

import os
import signal
import socket
import subprocess
import sys

import pytest

import build
import cluster
from kube_bench import unavailable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLI = os.path.join(HERE, "cluster.py")


def run_cli(*args, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, CLI] + list(args), capture_output=True, text=True,
                          env=full_env, timeout=600, check=False)


def running(pids):
    """The pids that still run (a zombie waiting for its parent to reap it has stopped)."""
    alive = []
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def test_an_inventory_without_edge_nodes_is_refused_in_one_line(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    somewhere:\n      ansible_connection: local\n")
    result = run_cli("up", "--inventory", str(inventory), "--workdir", str(tmp_path / "wd"))
    assert result.returncode == 2, result
    assert result.stderr.strip().splitlines() == [
        "cluster: inventory %s has no hosts in group edge_nodes: the bench makes one Node per edge node" % inventory]
    assert not (tmp_path / "wd").exists()


def test_a_taken_port_is_refused_in_one_line(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("up", "--inventory", os.path.join(REPO, "examples", "two-node"),
                         "--workdir", str(tmp_path / "wd"), "--port", str(port))
    assert result.returncode == 2, result
    assert result.stderr.strip().splitlines() == [
        "cluster: port %d on 127.0.0.1 is taken: stop what listens there or pick another with PORT=" % port]
    assert not (tmp_path / "wd").exists()


def test_a_version_not_built_without_a_proxy_is_refused_in_one_line(tmp_path):
    result = run_cli("up", "--inventory", os.path.join(REPO, "examples", "two-node"),
                     "--workdir", str(tmp_path / "wd"),
                     env={build.CACHE_ENV: str(tmp_path / "empty-cache"), "GOPROXY": "off"})
    assert result.returncode == build.EXIT_UNAVAILABLE, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(("cluster: cannot fetch k8s.io/kubernetes@v1.34.4 from the Go module proxy (off)",
                                "cluster: no Go toolchain on PATH")), lines
    assert not (tmp_path / "wd").exists()


def test_down_without_a_cluster_says_so(tmp_path):
    for attempt in (1, 2):
        result = run_cli("down", "--workdir", str(tmp_path / "wd"))
        assert result.returncode == 0, attempt
        assert result.stdout.strip() == "cluster: nothing to stop in %s" % (tmp_path / "wd")


def test_up_twice_replaces_and_a_dead_cluster_is_cleared_then_down_twice(tmp_path):
    components = {component.name for component in build.COMPONENTS}  # `up` runs without them
    if set(build.missing_binaries(build.read_versions())) - components:
        unavailable("binaries not built (run make cluster-build)")
    workdir = str(tmp_path / "wd")
    inventory = os.path.join(REPO, "examples", "single-node")
    first = run_cli("up", "--inventory", inventory, "--workdir", workdir)
    assert first.returncode == 0, first
    assert "cluster: up in" in first.stdout + first.stderr
    pids_first = [int(p) for p in cluster.read_env(os.path.join(workdir, "cluster.env"))["CLUSTER_PIDS"].split()]
    assert len(running(pids_first)) == 5  # etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
    try:
        second = run_cli("up", "--inventory", inventory, "--workdir", workdir)
        assert second.returncode == 0, second
        assert running(pids_first) == []
        pids_second = [int(p) for p in cluster.read_env(os.path.join(workdir, "cluster.env"))["CLUSTER_PIDS"].split()]

        # A run that died: its API server gone, the rest still up. The next up clears it.
        os.kill(pids_second[0], signal.SIGKILL)
        third = run_cli("up", "--inventory", inventory, "--workdir", workdir)
        assert third.returncode == 0, third
        assert running(pids_second) == []
        env_third = cluster.read_env(os.path.join(workdir, "cluster.env"))
        pids_third = [int(p) for p in env_third["CLUSTER_PIDS"].split()]
        # The supervisor of the real programs and the CoreDNS it runs stop with the cluster too.
        with open(os.path.join(env_third["CLUSTER_COMPONENTS_DIR"], "coredns", "pid"), encoding="ascii") as handle:
            pids_third += [int(env_third["CLUSTER_COMPONENTS_PID"]), int(handle.read())]
        assert len(running(pids_third)) == 7
    finally:
        first_down = run_cli("down", "--workdir", workdir)
    assert first_down.returncode == 0, first_down
    assert running(pids_third) == []
    assert not os.path.exists(workdir)
    again = run_cli("down", "--workdir", workdir)
    assert again.returncode == 0 and "nothing to stop" in again.stdout


@pytest.mark.parametrize("inventory", ["examples/two-node"])
def test_cluster_env_says_how_to_reach_it(bench_cluster, inventory):
    env = bench_cluster.env
    assert env["CLUSTER_INVENTORY"] == os.path.join(REPO, inventory)
    assert env["KUBERNETES_VERSION"] == build.read_versions()["KUBERNETES_VERSION"]
    version = bench_cluster.json("version")["serverVersion"]
    assert version["gitVersion"] == env["KUBERNETES_VERSION"]
    assert (version["major"], version["minor"]) == tuple(env["KUBERNETES_VERSION"][1:].split(".")[:2])
    assert float(env["STARTUP_SECONDS"]) < 120


def test_the_sites_dns_upstreams_are_read_as_coredns_would_forward_to_them():
    settings = {"compute_network_dns_servers": "192.168.10.2, 192.168.10.3",
                "coredns_forwarders": ["10.0.0.53:5353", "127.0.0.53", "fd00::53", "{{ templated }}"],
                "coredns_stub_domains": {"corp.test": ["10.1.1.1"], "lab.test": "10.1.1.2, 192.168.10.2"}}
    assert cluster.dns_upstreams(settings) == ["192.168.10.2", "192.168.10.3", "10.0.0.53", "10.1.1.1", "10.1.1.2"]
    assert cluster.read_site(os.path.join(REPO, "examples", "two-node")).upstreams == ["10.20.0.53", "10.20.0.54"]


def test_every_edge_nodes_dns_upstreams_are_read(tmp_path):
    # Set per host, each node's servers count: the leader's view is the play's choice, not the bench's.
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("""
all:
  vars:
    compute_network_node_ips: 10.9.0.10-10.9.0.12
    compute_network_dns_servers: 10.9.1.1
  children:
    edge_nodes:
      hosts:
        edge-a:
          coredns_forwarders: [10.9.1.2]
        edge-b:
          compute_network_dns_servers: 10.9.1.3
          coredns_stub_domains: {corp.test: 10.9.1.4, lab.test: 10.9.1.1}
""", encoding="utf-8")
    site = cluster.read_site(str(inventory))
    assert site.upstreams == ["10.9.1.1", "10.9.1.2", "10.9.1.3", "10.9.1.4"]
    assert site.nodes == [("edge-a", "10.9.0.10"), ("edge-b", "10.9.0.11")]


@pytest.mark.skipif(os.geteuid() != 0, reason="the bench adds its unreachable routes as root only")
def test_the_bench_keeps_the_sites_dns_servers_on_the_machine(bench_cluster):
    # The session bench is examples/two-node: its DNS servers are 10.20.0.53 and 10.20.0.54.
    for address in ("10.20.0.53", "10.20.0.54"):
        route = subprocess.run(["ip", "route", "get", address], capture_output=True, text=True, check=False)
        assert route.returncode != 0 and "no route to host" in route.stderr.lower(), route
