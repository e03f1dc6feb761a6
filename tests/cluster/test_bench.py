"""The bench itself, proven against the real API server (tests/cluster/conftest.py).

Server: the real kube-apiserver, etcd, kube-controller-manager and kube-scheduler of
tests/cluster/versions.env; kwok fakes only the nodes and the pods' status. What these tests
show holds for a real cluster: that the bench is set up as kubeadm leaves a cluster for the
site of examples/two-node, that real CRDs from the release manifests are served, that the
server's own validation (OpenAPI schema, CEL rules, server-side apply) answers.
"""

import ipaddress
import os
import socket
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

from kube_bench import find_releases

from ansible_collections.edgeops.k8s_network.plugins.module_utils import coredns

MANAGER = "edgeops.k8s_network"
RELEASES = find_releases()
CALICO_CRDS = os.path.join(RELEASES, "calico", "v3.32.1", "operator-crds.yaml")
METALLB = os.path.join(RELEASES, "metallb", "v0.16.1", "metallb-native.yaml")


def release_crds():
    for path in (CALICO_CRDS, METALLB):
        if not os.path.exists(path):
            pytest.skip("release manifest %s not found (set EDGEOPS_RELEASES)" % path)
    crds = []
    for path in (CALICO_CRDS, METALLB):
        with open(path, encoding="utf-8") as handle:
            crds += [doc for doc in yaml.safe_load_all(handle) if doc and doc.get("kind") == "CustomResourceDefinition"]
    return crds


@pytest.fixture(scope="module")
def crds(bench_cluster):
    """The CRDs of Calico v3.32.1's operator-crds.yaml and MetalLB v0.16.1, applied and Established."""
    objects = release_crds()
    # Server-side: some of these CRDs are larger than the last-applied annotation may hold.
    applied = bench_cluster.apply(objects, "--server-side", "--field-manager", MANAGER)
    assert applied.returncode == 0, applied.stderr
    names = ["crd/" + crd["metadata"]["name"] for crd in objects]
    waited = bench_cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", *names, check=False)
    assert waited.returncode == 0, waited.stderr
    return objects


def test_nodes_are_the_edge_nodes_with_their_compute_addresses(bench_cluster):
    nodes = bench_cluster.json("get", "nodes")["items"]
    found = {node["metadata"]["name"]: node for node in nodes}
    # examples/two-node: edge-a and edge-b, node IPs 10.20.30.21-10.20.30.23 handed out in order.
    assert sorted(found) == ["edge-a", "edge-b"]
    for name, address in (("edge-a", "10.20.30.21"), ("edge-b", "10.20.30.22")):
        addresses = {a["type"]: a["address"] for a in found[name]["status"]["addresses"]}
        assert addresses["InternalIP"] == address
        ready = {c["type"]: c["status"] for c in found[name]["status"]["conditions"]}
        assert ready["Ready"] == "True"
        # kube-controller-manager allocated the node a slice of the site's pod CIDR, as kubeadm's does.
        assert ipaddress.ip_network(found[name]["spec"]["podCIDR"]).subnet_of(ipaddress.ip_network("10.96.0.0/16"))


def test_kube_system_is_left_as_kubeadm_leaves_it(bench_cluster):
    config = bench_cluster.get("configmap", "kubeadm-config", "kube-system")
    networking = yaml.safe_load(config["data"]["ClusterConfiguration"])["networking"]
    assert networking == {"dnsDomain": "cluster.local", "podSubnet": "10.96.0.0/16", "serviceSubnet": "10.97.0.0/16"}

    corefile = bench_cluster.get("configmap", "coredns", "kube-system")["data"]["Corefile"]
    assert corefile == coredns.kubeadm_default("cluster.local")

    # The service CIDR is the API server's own: `kubernetes` at its first address, kube-dns at its tenth.
    assert bench_cluster.get("service", "kubernetes", "default")["spec"]["clusterIP"] == "10.97.0.1"
    dns = bench_cluster.get("service", "kube-dns", "kube-system")
    assert dns["spec"]["clusterIP"] == "10.97.0.10"
    assert dns["spec"]["selector"] == {"k8s-app": "kube-dns"}

    deployment = bench_cluster.get("deployment", "coredns", "kube-system")
    assert deployment["status"].get("readyReplicas") == 2
    pods = bench_cluster.json("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns")["items"]
    assert len(pods) == 2
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network("10.96.0.0/16")
    # The objects are kubeadm's: a later apply by the collection meets another field manager.
    managers = {entry["manager"] for entry in bench_cluster.get("configmap", "coredns", "kube-system")["metadata"]["managedFields"]}
    assert managers == {"kubeadm"}


def test_api_server_wants_tls_and_credentials_and_listens_on_loopback_only(bench_cluster):
    server = bench_cluster.env["CLUSTER_SERVER"]
    assert server.startswith("https://127.0.0.1:")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(server + "/api/v1/namespaces/kube-system/secrets", context=context, timeout=10)
    assert anonymous.value.code in (401, 403)
    # RBAC: a service account may not read secrets of kube-system.
    denied = bench_cluster.kubectl("auth", "can-i", "list", "secrets", "-n", "kube-system",
                                   "--as=system:serviceaccount:default:default", check=False)
    assert denied.stdout.strip() == "no"
    # Every socket the bench's processes listen on is on 127.0.0.1.
    pids = [int(pid) for pid in bench_cluster.env["CLUSTER_PIDS"].split()]
    listening = listening_addresses(pids)
    assert listening, "no listening sockets found for %s" % pids
    assert {address for address, _port in listening} == {"127.0.0.1"}, listening


def listening_addresses(pids):
    """(address, port) of every IPv4/IPv6 TCP socket in LISTEN state owned by the pids."""
    inodes = set()
    for pid in pids:
        fd_dir = "/proc/%d/fd" % pid
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        with open(table, encoding="ascii") as handle:
            next(handle)
            for line in handle:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state != "0A" or inode not in inodes:
                    continue
                hex_address, hex_port = local.split(":")
                raw = bytes.fromhex(hex_address)
                if family == socket.AF_INET:
                    address = socket.inet_ntop(family, raw[::-1])
                else:
                    address = socket.inet_ntop(family, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
                found.add((address, int(hex_port, 16)))
    return found


def test_release_crds_become_established(bench_cluster, crds):
    for crd in crds:
        live = bench_cluster.get("crd", crd["metadata"]["name"])
        conditions = {c["type"]: c["status"] for c in live["status"]["conditions"]}
        assert conditions.get("Established") == "True", crd["metadata"]["name"]
    assert len(crds) == 32 + 9


def test_a_deployment_and_a_daemonset_roll_out_on_the_fake_nodes(bench_cluster):
    labels = {"app": "bench-probe"}
    template = {"metadata": {"labels": labels},
                "spec": {"containers": [{"name": "probe", "image": "registry.invalid/probe:1"}]}}
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench-probe"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "probe", "namespace": "bench-probe"},
         "spec": {"replicas": 3, "selector": {"matchLabels": labels}, "template": template}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "probe", "namespace": "bench-probe"},
         "spec": {"selector": {"matchLabels": labels}, "template": template}},
    ]
    assert bench_cluster.apply(objects).returncode == 0
    try:
        for kind in ("deployment", "daemonset"):
            bench_cluster.kubectl("rollout", "status", "-n", "bench-probe", kind + "/probe", "--timeout=60s")
        daemonset = bench_cluster.get("daemonset", "probe", "bench-probe")
        assert daemonset["status"]["numberReady"] == daemonset["status"]["desiredNumberScheduled"] == 2
        pods = bench_cluster.json("get", "pods", "-n", "bench-probe")["items"]
        assert len(pods) == 5
        assert {pod["spec"]["nodeName"] for pod in pods} == {"edge-a", "edge-b"}
    finally:
        bench_cluster.kubectl("delete", "namespace", "bench-probe", "--wait=false", check=False)


def test_server_side_apply_creates_then_an_identical_apply_changes_nothing(bench_cluster):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa-probe", "namespace": "default"},
           "data": {"site": "two-node"}}
    first = bench_cluster.apply([obj], "--server-side", "--field-manager", MANAGER)
    assert first.returncode == 0, first.stderr
    created = bench_cluster.get("configmap", "ssa-probe", "default")
    assert [(f["manager"], f["operation"]) for f in created["metadata"]["managedFields"]] == [(MANAGER, "Apply")]

    second = bench_cluster.apply([obj], "--server-side", "--field-manager", MANAGER)
    assert second.returncode == 0, second.stderr
    again = bench_cluster.get("configmap", "ssa-probe", "default")
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    # Another manager's value for the same field is a conflict the server names, not an overwrite.
    obj["data"]["site"] = "other"
    conflict = bench_cluster.apply([obj], "--server-side", "--field-manager", "someone-else")
    assert conflict.returncode != 0
    assert 'conflict with "%s"' % MANAGER in conflict.stderr
    bench_cluster.kubectl("delete", "configmap", "ssa-probe", "-n", "default")


def ippool(name, **spec):
    body = {"cidr": "10.96.0.0/16", "blockSize": 26, "ipipMode": "Never", "vxlanMode": "Never",
            "natOutgoing": True, "nodeSelector": "all()"}
    body.update(spec)
    return {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": name}, "spec": body}


def test_the_server_enforces_the_crds_cel_rules(bench_cluster, crds):
    both = bench_cluster.apply([ippool("both-encaps", ipipMode="Always", vxlanMode="Always")],
                               "--server-side", "--field-manager", MANAGER)
    assert both.returncode != 0
    assert "ipipMode and vxlanMode cannot both be enabled" in both.stderr
    assert bench_cluster.get("ippool.crd.projectcalico.org", "both-encaps") is None

    created = bench_cluster.apply([ippool("cel-probe")], "--server-side", "--field-manager", MANAGER)
    assert created.returncode == 0, created.stderr
    try:
        moved = bench_cluster.apply([ippool("cel-probe", cidr="10.98.0.0/16")], "--server-side", "--field-manager", MANAGER)
        assert moved.returncode != 0
        assert "CIDR cannot be changed" in moved.stderr
        live = bench_cluster.get("ippool.crd.projectcalico.org", "cel-probe")
        assert live["spec"]["cidr"] == "10.96.0.0/16"
    finally:
        bench_cluster.kubectl("delete", "ippool.crd.projectcalico.org", "cel-probe", check=False)


def test_the_server_enforces_the_crds_schema(bench_cluster, crds):
    bad_enum = bench_cluster.apply([ippool("enum-probe", vxlanMode="Sometimes")],
                                   "--server-side", "--field-manager", MANAGER)
    assert bad_enum.returncode != 0
    assert 'spec.vxlanMode: Unsupported value: "Sometimes"' in bad_enum.stderr
    pool = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
            "metadata": {"name": "schema-probe", "namespace": "default"},
            "spec": {"addresses": "10.20.30.200-10.20.30.231"}}
    bad_type = bench_cluster.apply([pool], "--server-side", "--field-manager", MANAGER)
    assert bad_type.returncode != 0
    # Server-side apply types the patch against the CRD's schema before anything else.
    assert "failed to create typed patch object" in bad_type.stderr
    assert ".spec.addresses: expected list" in bad_type.stderr
