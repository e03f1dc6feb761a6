"""The real Tigera operator with the Installation this collection renders.

Server: the bench's real control plane (tests/cluster), one cluster per scenario for
examples/two-node (pod CIDR 10.96.0.0/16, kubeadm-config's podSubnet the same); the real Tigera
operator v1.42.3 (tests/cluster/versions.env, built by tests/cluster/build.py) runs as a host
process in place of the pod kwok fakes for its Deployment, started by the bench's component
supervisor (tests/cluster/components.py) once the calico role has applied the release manifests
of Calico v3.32.1 from ../shared/releases. kwok makes the pods of the DaemonSets and Deployments
the operator creates Running and Ready; nothing runs in them. What these tests show is what the
operator itself does with our Installation: the IPPool and calico-node DaemonSet it writes, the
TigeraStatus it reports, and how the calico role's wait ends when the operator goes Degraded.
"""

import json
import os
import subprocess
import sys

import pytest

import cluster
from kube_bench import find_releases, operator_binary, start_bench
from test_bench import listening_addresses

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
from emulator.fixtures import PlaybookRun, ansible_env  # noqa: E402 pylint: disable=wrong-import-position

INVENTORY = os.path.join(REPO, "examples", "two-node")
CALICO_RELEASE = os.path.join(find_releases(), "calico", "v3.32.1")
CALICO_ROLE_PLAYBOOK = """---
- name: Check the compute network
  hosts: edge_nodes
  gather_facts: false
  roles:
    - role: edgeops.k8s_network.compute_network
- name: Calico
  hosts: k8s_network_cluster_leaders
  gather_facts: false
  roles:
    - role: edgeops.k8s_network.calico
"""
# kubeadm-config of the bench says podSubnet 10.96.0.0/16; this pool lies outside it.
OUTSIDE_POD_SUBNET = "10.98.0.0/16"
READY_TIMEOUT = 45


def run_calico_role(bench, scratch, **extra):
    """The calico role in apply mode on the bench, as bringup.yml runs it after the check, with
    the release manifests through the air-gapped path (calico_manifest_dir) and their pins."""
    os.makedirs(scratch, exist_ok=True)
    playbook = os.path.join(scratch, "calico.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        handle.write(CALICO_ROLE_PLAYBOOK)
    extra_vars = {"k8s_network_mode": "apply", "k8s_network_kubeconfig": bench.kubeconfig,
                  "k8s_network_manifest_download": False, "calico_manifest_dir": CALICO_RELEASE,
                  "calico_ready_timeout": READY_TIMEOUT}
    extra_vars.update(extra)
    env = ansible_env(scratch)
    env.update({"K8S_AUTH_KUBECONFIG": bench.kubeconfig, "KUBECONFIG": bench.kubeconfig})
    completed = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", INVENTORY, playbook,
         "-e", json.dumps(extra_vars)],
        cwd=scratch, env=env, capture_output=True, text=True, timeout=600, check=False)
    return PlaybookRun(completed)


def operator_bench(tmp_path_factory, name):
    """A bench for examples/two-node whose component supervisor runs the real operator once its
    Deployment appears (the calico role applies tigera-operator.yaml)."""
    if not os.path.isfile(os.path.join(CALICO_RELEASE, "tigera-operator.yaml")):
        pytest.skip("release manifests not found in %s (set EDGEOPS_RELEASES)" % CALICO_RELEASE)
    binary = operator_binary()
    workdir = str(tmp_path_factory.mktemp(name) / "cluster")
    bench = start_bench(workdir, inventory=INVENTORY)
    bench.operator_binary = binary
    return bench


def operator_folder(bench):
    return os.path.join(bench.workdir, "components", "tigera-operator")


def operator_pid(bench):
    """The pid of the operator the supervisor runs, or None."""
    try:
        with open(os.path.join(operator_folder(bench), "pid"), encoding="ascii") as handle:
            pid = int(handle.read().strip())
        exe = os.readlink("/proc/%d/exe" % pid)
    except (OSError, ValueError):
        return None
    return pid if exe.replace(" (deleted)", "") == bench.operator_binary else None


def operator_log(bench):
    with open(os.path.join(operator_folder(bench), "log"), encoding="utf-8", errors="replace") as handle:
        return handle.read()


def conditions(status_object):
    return {c["type"]: c for c in ((status_object or {}).get("status") or {}).get("conditions", [])}


@pytest.fixture(scope="module")
def accepted(tmp_path_factory):
    """examples/two-node's site brought up by the calico role on the real operator."""
    bench = operator_bench(tmp_path_factory, "operator-ok")
    try:
        run = run_calico_role(bench, str(tmp_path_factory.mktemp("operator-ok-run")))
        bench.first_run = run
        yield bench
    finally:
        cluster.down(bench.workdir, log=lambda line: None, quiet_if_absent=True)


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    """The same site with a pod CIDR outside kubeadm-config's podSubnet, brought up by the calico role."""
    bench = operator_bench(tmp_path_factory, "operator-degraded")
    try:
        run = run_calico_role(bench, str(tmp_path_factory.mktemp("operator-degraded-run")),
                              compute_network_pod_cidr=OUTSIDE_POD_SUBNET)
        bench.first_run = run
        yield bench
    finally:
        cluster.down(bench.workdir, log=lambda line: None, quiet_if_absent=True)


def test_the_calico_role_brings_the_site_up_on_the_real_operator(accepted):
    run = accepted.first_run
    assert run.rc == 0, run
    assert run.recap["edge-a"]["failed"] == 0
    pid = operator_pid(accepted)
    assert pid, "the supervisor runs no operator: %s" % operator_log(accepted)
    # It serves nothing: no listening socket, no admission webhook for the API server to call.
    assert listening_addresses([pid]) == set()
    for kind in ("validatingwebhookconfigurations", "mutatingwebhookconfigurations"):
        assert accepted.json("get", kind)["items"] == []


def test_the_operator_creates_the_ippool_with_the_sites_values(accepted):
    pool = accepted.wait_for(lambda: accepted.get("ippool.crd.projectcalico.org", "default-ipv4-ippool"),
                             timeout=60, what="the operator's IPPool default-ipv4-ippool")
    # examples/two-node: pod CIDR 10.96.0.0/16, block size 26, IPIPCrossSubnet, NAT outgoing.
    assert pool["spec"]["cidr"] == "10.96.0.0/16"
    assert pool["spec"]["blockSize"] == 26
    assert pool["spec"]["ipipMode"] == "CrossSubnet"
    assert pool["spec"]["vxlanMode"] == "Never"
    assert pool["spec"]["natOutgoing"] is True
    assert pool["spec"]["nodeSelector"] == "all()"
    assert pool["metadata"]["labels"].get("app.kubernetes.io/managed-by") == "tigera-operator"
    pools = accepted.json("get", "ippool.crd.projectcalico.org")["items"]
    assert [p["metadata"]["name"] for p in pools] == ["default-ipv4-ippool"]


def env_of(daemonset, container="calico-node"):
    spec = daemonset["spec"]["template"]["spec"]
    found = [c for c in spec["containers"] if c["name"] == container]
    assert found, [c["name"] for c in spec["containers"]]
    return {e["name"]: e.get("value") for e in found[0].get("env", [])}


def test_calico_node_carries_the_sites_mtu_and_node_address_method(accepted):
    daemonset = accepted.wait_for(lambda: accepted.get("daemonset", "calico-node", "calico-system"),
                                  timeout=60, what="the calico-node DaemonSet")
    env = env_of(daemonset)
    # Port MTU 1450 less IPIP's 20 bytes: the pod MTU the collection put into the Installation.
    assert env["FELIX_IPINIPMTU"] == "1430"
    assert env["FELIX_VXLANMTU"] == "1430"
    assert env["FELIX_WIREGUARDMTU"] == "1430"
    # The node address is found on the compute subnet.
    assert env["IP_AUTODETECTION_METHOD"] == "cidr=10.20.30.0/24"
    assert env["CALICO_NETWORKING_BACKEND"] == "bird"
    cni = accepted.get("configmap", "cni-config", "calico-system")
    assert cni, "the operator's cni-config ConfigMap"
    plugins = json.loads(cni["data"]["config"])["plugins"]
    assert [p["mtu"] for p in plugins if p["type"] == "calico"] == [1430]

    # kwok runs its pods on both fake nodes, so the DaemonSet is ready on every node.
    def ready_on_both():
        status = accepted.get("daemonset", "calico-node", "calico-system").get("status", {})
        return status if status.get("desiredNumberScheduled") == 2 and status.get("numberReady") == 2 else None

    assert accepted.wait_for(ready_on_both, timeout=60, what="calico-node ready on both nodes")


def test_tigerastatus_calico_is_available_and_not_degraded(accepted):
    def available():
        status = conditions(accepted.get("tigerastatus", "calico"))
        return status if status.get("Available", {}).get("status") == "True" else None

    status = accepted.wait_for(available, timeout=120, what="TigeraStatus calico Available")
    assert status["Degraded"]["status"] == "False", status
    assert conditions(accepted.get("tigerastatus", "ippools"))["Degraded"]["status"] == "False"
    installation = accepted.get("installation", "default")
    assert installation["status"]["mtu"] == 1430
    assert installation["status"]["calicoVersion"] == "v3.32.1"


def test_a_second_run_changes_nothing_the_operator_defaulted(accepted, tmp_path):
    """The operator writes its defaults into the Installation's spec (cni, bgp, linuxDataplane...)
    and its status again and again; our second apply must move neither the spec nor the pool."""
    installation = accepted.get("installation", "default")
    pool = accepted.get("ippool.crd.projectcalico.org", "default-ipv4-ippool")
    mark = accepted.mark()
    run = run_calico_role(accepted, str(tmp_path / "again"))
    assert run.rc == 0, run
    assert run.recap["edge-a"]["changed"] == 0, run
    ours = [entry for entry in accepted.journal(since=mark, clients="all")
            if entry["field_manager"] == "edgeops.k8s_network" and entry["changed"]]
    assert ours == [], ours
    again = accepted.get("installation", "default")
    assert again["metadata"]["generation"] == installation["metadata"]["generation"]
    assert again["spec"] == installation["spec"]
    assert accepted.get("ippool.crd.projectcalico.org", "default-ipv4-ippool")["metadata"]["resourceVersion"] \
        == pool["metadata"]["resourceVersion"]


def test_without_the_calico_api_server_the_operator_changes_no_pool(accepted):
    """Why a pool migration (calico_allow_migration) cannot run through on the bench: once a pool
    exists, the operator creates or changes pools only through projectcalico.org/v3, which the
    Calico API server serves, and the collection creates no APIServer resource (nor could the
    bench run one: kwok would fake its pods). Runs last on this cluster: it changes the pools."""
    installation = accepted.get("installation", "default")
    pools = installation["spec"]["calicoNetwork"]["ipPools"]
    second = dict(pools[0], name="second-pool", cidr="10.99.0.0/16")
    body = {"apiVersion": "operator.tigera.io/v1", "kind": "Installation", "metadata": {"name": "default"},
            "spec": {"calicoNetwork": {"ipPools": pools + [second]}}}
    applied = accepted.apply([body], "--server-side", "--field-manager", "test-second-pool", "--force-conflicts")
    assert applied.returncode == 0, applied.stderr

    def degraded():
        status = conditions(accepted.get("tigerastatus", "ippools"))
        return status if status.get("Degraded", {}).get("status") == "True" else None

    status = accepted.wait_for(degraded, timeout=60, what="TigeraStatus ippools Degraded")
    assert status["Degraded"]["message"] == "Unable to modify IP pools while Calico API server is unavailable"
    assert [p["metadata"]["name"] for p in accepted.json("get", "ippool.crd.projectcalico.org")["items"]] \
        == ["default-ipv4-ippool"]
    tiers = conditions(accepted.get("tigerastatus", "tiers"))
    assert tiers["Degraded"]["message"] == "Waiting for Tigera API server to be ready"


def test_a_pool_outside_kubeadms_pod_subnet_makes_the_operator_degraded(refused):
    def degraded():
        status = conditions(refused.get("tigerastatus", "ippools"))
        return status if status.get("Degraded", {}).get("status") == "True" else None

    status = refused.wait_for(degraded, timeout=60, what="TigeraStatus ippools Degraded")
    assert status["Degraded"]["reason"] == "ResourceReadError"
    assert ("IPPool %s is not within the platform's configured pod network CIDR(s) [10.96.0.0/16]"
            % OUTSIDE_POD_SUBNET) in status["Degraded"]["message"]
    assert refused.json("get", "ippool.crd.projectcalico.org")["items"] == []
    assert refused.get("daemonset", "calico-node", "calico-system") is None


def test_the_calico_roles_wait_fails_with_calico_not_ready_when_the_operator_is_degraded(refused):
    run = refused.first_run
    assert run.rc != 0
    assert run.recap["edge-a"]["failed"] == 1
    assert "[calico_not_ready] DaemonSet calico-system/calico-node" in run.stdout, run


def test_the_calico_roles_failure_names_the_operators_reason(refused):
    text = " ".join(refused.first_run.stdout.split())
    assert ("[calico_not_ready] DaemonSet calico-system/calico-node: not found (nothing created it) within "
            "calico_ready_timeout (%d s)" % READY_TIMEOUT) in text, refused.first_run
    assert "Degraded=True (ResourceReadError: " in text
    assert "is not within the platform's configured pod network CIDR(s)" in text
