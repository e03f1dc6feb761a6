"""The real programs behind the faked pods (tests/cluster/components.py), on the session's bench.

Server: the bench of tests/cluster/conftest.py (real control plane, kwok nodes) with the real
CoreDNS of versions.env serving kube-system/coredns as a host process on 127.0.0.1, and, once
MetalLB v0.16.1's release manifest is applied, the real MetalLB controller in a network
namespace the bench made, at the faked controller pod's IP. Every DNS query goes to CoreDNS's
loopback port over UDP; the API server reaches the webhook at the pod IP inside that namespace;
the bench's unreachable routes keep anything else for the pod and service CIDRs on the machine.
No speaker runs: that an assigned address is announced is not proven here.
"""

import ipaddress
import json
import os
import subprocess
import time

import pytest
import yaml

import components
from kube_bench import find_releases, load_balancer_ingress, make_load_balancer
from test_bench import listening_addresses

from ansible_collections.edgeops.k8s_network.plugins.module_utils import coredns

NXDOMAIN = 3


def dns_port(bench):
    server = bench.env["CLUSTER_DNS"]
    host, _sep, port = server.rpartition(":")
    assert host == "127.0.0.1"
    return int(port)


def answers(bench, name):
    return components.dns_query(dns_port(bench), name)


def coredns_pid(bench):
    with open(os.path.join(bench.env["CLUSTER_COMPONENTS_DIR"], "coredns", "pid"), encoding="ascii") as handle:
        return int(handle.read())


@pytest.fixture
def namespace(bench_cluster):
    name = "dns-probe"
    bench_cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}])
    yield name
    bench_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_cluster_env_names_the_dns_port(bench_cluster):
    assert bench_cluster.env["CLUSTER_DNS"].startswith("127.0.0.1:")
    corefile = os.path.join(bench_cluster.env["CLUSTER_COMPONENTS_DIR"], "coredns", "Corefile")
    with open(corefile, encoding="utf-8") as handle:
        served = handle.read()
    # What CoreDNS serves is the ConfigMap's Corefile with the out-of-cluster lines only.
    assert "bind 127.0.0.1" in served
    assert ".:%d {" % dns_port(bench_cluster) in served
    assert "kubeconfig " in served


def test_real_coredns_answers_the_kubernetes_service_and_a_test_service(bench_cluster, namespace):
    # The kubernetes Service's ClusterIP is the first address of the site's service CIDR.
    assert answers(bench_cluster, "kubernetes.default.svc.cluster.local") == (0, ["10.97.0.1"])
    assert answers(bench_cluster, "kube-dns.kube-system.svc.cluster.local") == (0, ["10.97.0.10"])

    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": namespace},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "protocol": "TCP"}]}}
    created = bench_cluster.apply([service])
    assert created.returncode == 0, created.stderr
    cluster_ip = bench_cluster.get("service", "web", namespace)["spec"]["clusterIP"]
    name = "web.%s.svc.cluster.local" % namespace
    got = bench_cluster.wait_for(lambda: answers(bench_cluster, name)[1], timeout=20, what="an answer for " + name)
    assert got == [cluster_ip]
    assert answers(bench_cluster, "absent.%s.svc.cluster.local" % namespace) == (NXDOMAIN, [])

    bench_cluster.kubectl("delete", "service", "web", "-n", namespace)
    bench_cluster.wait_for(lambda: answers(bench_cluster, name)[0] == NXDOMAIN, timeout=20,
                           what="NXDOMAIN for the deleted Service")


def test_coredns_listens_on_loopback_only(bench_cluster):
    listening = listening_addresses([coredns_pid(bench_cluster)])
    # DNS (its TCP side), health, ready and prometheus: each on 127.0.0.1, none on a pod's port.
    assert ("127.0.0.1", dns_port(bench_cluster)) in listening
    assert len(listening) == 4, listening
    assert {address for address, _port in listening} == {"127.0.0.1"}, listening


def test_a_corefile_change_in_the_configmap_is_served_after_reload(bench_cluster):
    live = bench_cluster.get("configmap", "coredns", "kube-system")
    before = live["data"]["Corefile"]
    assert before == coredns.kubeadm_default("cluster.local")
    assert answers(bench_cluster, "plc.lan") != (0, ["10.20.1.10"])
    changed, findings = coredns.merge(before, hosts=[{"ip": "10.20.1.10", "names": ["plc.lan"]}])
    assert [f for f in findings if f["severity"] == "error"] == []
    patch = {"data": {"Corefile": changed}}
    try:
        bench_cluster.kubectl("patch", "configmap", "coredns", "-n", "kube-system", "--type=merge",
                              "--field-manager", "bench-test", "-p", json.dumps(patch))
        started = time.monotonic()
        bench_cluster.wait_for(lambda: answers(bench_cluster, "plc.lan") == (0, ["10.20.1.10"]), timeout=30,
                               what="CoreDNS's reload to serve the changed Corefile")
        reloaded_after = time.monotonic() - started
        # The same process serves it: the reload plugin, not a restart, picked the change up.
        assert "plc.lan" in _served(bench_cluster)
        assert reloaded_after < 30
    finally:
        bench_cluster.kubectl("patch", "configmap", "coredns", "-n", "kube-system", "--type=merge",
                              "--field-manager", "bench-test", "-p", json.dumps({"data": {"Corefile": before}}))
    bench_cluster.wait_for(lambda: answers(bench_cluster, "plc.lan") != (0, ["10.20.1.10"]), timeout=30,
                           what="the previous Corefile to be served again")
    assert answers(bench_cluster, "kubernetes.default.svc.cluster.local") == (0, ["10.97.0.1"])


def _served(bench):
    with open(os.path.join(bench.env["CLUSTER_COMPONENTS_DIR"], "coredns", "Corefile"), encoding="utf-8") as handle:
        return handle.read()


def test_a_corefile_coredns_cannot_load_leaves_the_running_one_served(bench_cluster):
    before = bench_cluster.get("configmap", "coredns", "kube-system")["data"]["Corefile"]
    broken = before.replace("    loadbalance\n", "    no_such_plugin\n")
    assert broken != before
    pid = coredns_pid(bench_cluster)
    try:
        bench_cluster.kubectl("patch", "configmap", "coredns", "-n", "kube-system", "--type=merge",
                              "--field-manager", "bench-test", "-p", json.dumps({"data": {"Corefile": broken}}))
        bench_cluster.wait_for(lambda: "no_such_plugin" in _served(bench_cluster), timeout=15,
                               what="the broken Corefile to be projected")
        log = os.path.join(bench_cluster.env["CLUSTER_COMPONENTS_DIR"], "coredns", "log")
        bench_cluster.wait_for(lambda: "no_such_plugin" in open(log, encoding="utf-8", errors="replace").read(),
                               timeout=15, what="CoreDNS's reload to refuse it")
        # CoreDNS keeps the configuration it runs, in the same process.
        assert answers(bench_cluster, "kubernetes.default.svc.cluster.local") == (0, ["10.97.0.1"])
        assert coredns_pid(bench_cluster) == pid
    finally:
        bench_cluster.kubectl("patch", "configmap", "coredns", "-n", "kube-system", "--type=merge",
                              "--field-manager", "bench-test", "-p", json.dumps({"data": {"Corefile": before}}))
    bench_cluster.wait_for(lambda: "no_such_plugin" not in _served(bench_cluster), timeout=15,
                           what="the good Corefile to be projected again")


# --------------------------------------------------------------------------- the Corefile projection


def test_the_projection_changes_only_what_a_host_process_needs():
    text = coredns.kubeadm_default("cluster.local")
    served = components.project_corefile(text, 1053, "/bench/kubeconfig", 2001, 2002, 2003, 2004)
    expected = (text.replace(".:53 {\n", ".:1053 {\n    bind 127.0.0.1\n")
                .replace("    health {", "    health 127.0.0.1:2001 {")
                .replace("    ready\n", "    ready 127.0.0.1:2002\n")
                .replace("       ttl 30\n", "       ttl 30\n       kubeconfig /bench/kubeconfig\n")
                .replace("prometheus :9153", "prometheus 127.0.0.1:2003")
                .replace("forward . /etc/resolv.conf", "forward . 127.0.0.1:2004")
                .replace("    reload\n", "    reload 2s 1s\n"))
    assert served == expected


def test_the_projection_moves_every_server_block_and_refuses_other_transports():
    text = "site.example:53 {\n    forward . 192.0.2.53\n}\n.:53 {\n    bind 10.0.0.1\n    kubernetes cluster.local\n}\n"
    served = components.project_corefile(text, 1053, "/k", 1, 2, 3, 4)
    assert served == ("site.example:1053 {\n    bind 127.0.0.1\n    forward . 192.0.2.53\n}\n"
                      ".:1053 {\n    bind 127.0.0.1\n    kubernetes cluster.local {\n       kubeconfig /k\n    }\n}\n")
    with pytest.raises(components.ProjectionError, match="dns:// only"):
        components.project_corefile("tls://.:853 {\n    whoami\n}\n", 1053, "/k", 1, 2, 3, 4)
    with pytest.raises(components.ProjectionError, match="does not parse"):
        components.project_corefile(".:53 {\n    whoami\n", 1053, "/k", 1, 2, 3, 4)


# --------------------------------------------------------------------------- MetalLB's controller

METALLB_NS = "metallb-system"
POOL_RANGE = "10.20.30.200-10.20.30.231"  # examples/two-node's compute_network_external_service_ips


def _metallb_manifest():
    path = os.path.join(find_releases(), "metallb", "v0.16.1", "metallb-native.yaml")
    if not os.path.exists(path):
        pytest.skip("release manifest %s not found (set EDGEOPS_RELEASES)" % path)
    with open(path, encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


@pytest.fixture(scope="module")
def metallb(bench_cluster):
    """MetalLB v0.16.1's release manifest applied; the real controller started by the bench for
    its Deployment; one IPAddressPool of the site's external service range."""
    if not components.can_make_pod_networks():
        pytest.skip("the MetalLB controller's pod network needs root with unshare, nsenter and ip")
    applied = bench_cluster.apply(_metallb_manifest(), "--server-side", "--force-conflicts",
                                  "--field-manager", "edgeops.k8s_network")
    assert applied.returncode == 0, applied.stderr
    pid_file = os.path.join(bench_cluster.env["CLUSTER_COMPONENTS_DIR"], "metallb-controller", "pid")
    bench_cluster.wait_for(lambda: os.path.exists(pid_file), timeout=60, what="the MetalLB controller to start")
    bench_cluster.wait_for(lambda: _ca_bundles(bench_cluster) and all(_ca_bundles(bench_cluster)), timeout=90,
                           what="the controller's cert rotation to write the webhooks' CA bundle")
    pool = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
            "metadata": {"name": "site-pool", "namespace": METALLB_NS}, "spec": {"addresses": [POOL_RANGE]}}

    def created():
        # The webhook server starts once its certificate is written: a first call may be refused.
        return bench_cluster.apply([pool]).returncode == 0

    bench_cluster.wait_for(created, timeout=60, what="the IPAddressPool to pass the webhook")
    yield bench_cluster


def _ca_bundles(bench):
    live = bench.get("validatingwebhookconfiguration", "metallb-webhook-configuration")
    return [hook.get("clientConfig", {}).get("caBundle", "") for hook in (live or {}).get("webhooks", [])]


def test_the_real_controller_rotates_the_webhook_certificate(metallb):
    bundles = _ca_bundles(metallb)
    assert len(bundles) == 6 and len(set(bundles)) == 1 and bundles[0]
    live = metallb.get("validatingwebhookconfiguration", "metallb-webhook-configuration")
    assert "MetalLB" in {entry["manager"] for entry in live["metadata"]["managedFields"]}
    secret = metallb.get("secret", "metallb-webhook-cert", METALLB_NS)
    assert secret["data"].get("ca.crt") == bundles[0]
    conversion = metallb.get("crd", "bgppeers.metallb.io")["spec"]["conversion"]["webhook"]["clientConfig"]
    assert conversion.get("caBundle") == bundles[0]


def test_the_validating_webhook_is_served_for_real(metallb):
    overlapping = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
                   "metadata": {"name": "overlap", "namespace": METALLB_NS}, "spec": {"addresses": ["10.20.30.210/32"]}}
    refused = metallb.apply([overlapping])
    assert refused.returncode != 0
    # The API server called the controller at its pod IP and relayed its answer.
    assert 'admission webhook "ipaddresspoolvalidationwebhook.metallb.io" denied the request' in refused.stderr
    assert "overlaps" in refused.stderr
    assert metallb.get("ipaddresspool.metallb.io", "overlap", METALLB_NS) is None


def test_a_load_balancer_service_gets_an_address_of_the_pool(metallb):
    make_load_balancer(metallb, "lb-any")
    ips = metallb.wait_for(lambda: load_balancer_ingress(metallb, "lb-any"), timeout=30, what="an ingress address")
    assert len(ips) == 1
    assert ipaddress.ip_address("10.20.30.200") <= ipaddress.ip_address(ips[0]) <= ipaddress.ip_address("10.20.30.231")


def test_a_requested_address_of_the_pool_is_given_exactly(metallb):
    make_load_balancer(metallb, "lb-fixed", {"metallb.io/loadBalancerIPs": "10.20.30.222"})
    assert metallb.wait_for(lambda: load_balancer_ingress(metallb, "lb-fixed"), timeout=30, what="the requested address") \
        == ["10.20.30.222"]


def test_a_requested_address_outside_every_pool_gets_none(metallb):
    make_load_balancer(metallb, "lb-outside", {"metallb.io/loadBalancerIPs": "10.20.31.5"})

    def refused():
        events = metallb.json("get", "events", "-n", "default",
                              "--field-selector", "involvedObject.name=lb-outside")["items"]
        return [event for event in events if event["reason"] == "AllocationFailed"]

    events = metallb.wait_for(refused, timeout=30, what="the controller's AllocationFailed event")
    assert "10.20.31.5" in events[0]["message"]
    reporter = events[0].get("reportingComponent") or events[0].get("source", {}).get("component")
    assert reporter == "metallb-controller"
    assert load_balancer_ingress(metallb, "lb-outside") == []


def test_the_api_server_refuses_loopback_endpoints(bench_cluster):
    """Why the controller runs at its pod IP in a namespace of its own: a webhook Service's
    endpoint on the host's loopback, where it would be simplest to serve, is refused."""
    for kind, body in (
            ("Endpoints", {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "loop", "namespace": "default"},
                           "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"port": 9443}]}]}),
            ("EndpointSlice", {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                               "metadata": {"name": "loop", "namespace": "default"}, "addressType": "IPv4",
                               "endpoints": [{"addresses": ["127.0.0.1"]}], "ports": [{"port": 9443}]})):
        refused = bench_cluster.apply([body])
        assert refused.returncode != 0, kind
        assert "loopback" in refused.stderr, refused.stderr


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_controller_stops_with_its_deployment_and_starts_with_the_next(metallb):
    pid_file = os.path.join(metallb.env["CLUSTER_COMPONENTS_DIR"], "metallb-controller", "pid")
    with open(pid_file, encoding="ascii") as handle:
        pid = int(handle.read())
    assert _alive(pid)
    link = components.PodNetwork(0, "", 0, metallb.workdir + "/metallb-controller").host_link
    assert subprocess.run(["ip", "link", "show", link], capture_output=True, check=False).returncode == 0
    metallb.kubectl("delete", "deployment", "controller", "-n", METALLB_NS, "--wait=false")
    metallb.wait_for(lambda: not os.path.exists(pid_file), timeout=30, what="the controller to be stopped")
    assert not _alive(pid)
    # Its pod network went with it: the veth (and with it the route to the pod IP) is gone.
    assert subprocess.run(["ip", "link", "show", link], capture_output=True, check=False).returncode != 0

    deployment = [doc for doc in _metallb_manifest() if doc["kind"] == "Deployment"]
    assert metallb.apply(deployment, "--server-side", "--force-conflicts", "--field-manager",
                         "edgeops.k8s_network").returncode == 0
    metallb.wait_for(lambda: os.path.exists(pid_file), timeout=60, what="the controller to start again")
    make_load_balancer(metallb, "lb-after")
    assert len(metallb.wait_for(lambda: load_balancer_ingress(metallb, "lb-after"), timeout=30, what="an address")) == 1
