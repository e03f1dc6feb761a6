"""The site held against the live cluster (cluster_network_mismatch): each rule fails and passes.

The cluster's objects are built as k8s_info returns them; the site is compute_network_check's
own result for the tests' site, so the two are compared as the role compares them.
"""

import pytest
import yaml

from ansible_collections.edgeops.k8s_network.plugins.module_utils import cluster_network
from ansible_collections.edgeops.k8s_network.plugins.module_utils.compute_network import check_compute_network

SETTINGS = {
    "node_ips": "192.168.10.11-192.168.10.12",
    "external_service_ips": "192.168.10.100-192.168.10.119",
    "subnet": "192.168.10.0/24",
    "gateway": "192.168.10.1",
    "pod_cidr": "172.27.0.0/16",
    "service_cidr": "172.28.0.0/16",
    "cluster_domain": "cluster.local",
}
PREFIX = "compute_network_"


def network(**changes):
    result, findings = check_compute_network(dict(SETTINGS, **changes))
    assert [f for f in findings if f["severity"] == "error"] == []
    return result


def kubeadm_config(service="172.28.0.0/16", pod="172.27.0.0/16", domain="cluster.local", text=None):
    networking = {"serviceSubnet": service, "podSubnet": pod, "dnsDomain": domain}
    networking = dict((k, v) for k, v in networking.items() if v is not None)
    config = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration", "networking": networking}
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
             "data": {"ClusterConfiguration": yaml.safe_dump(config) if text is None else text}}]


def service(namespace, name, *ips):
    spec = {"clusterIP": ips[0], "clusterIPs": list(ips)} if ips else {"clusterIP": "None"}
    return [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": spec}]


def node(name, *addresses):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"addresses": [{"type": "InternalIP", "address": a} for a in addresses]
                       + [{"type": "Hostname", "address": name}]}}


def cluster(**changes):
    """A cluster that matches the site, as kubeadm makes it; changes replace one part."""
    parts = {
        "kubeadm_config": kubeadm_config(),
        "kubernetes_service": service("default", "kubernetes", "172.28.0.1"),
        "dns_service": service("kube-system", "kube-dns", "172.28.0.10"),
        "nodes": [node("edge-1", "192.168.10.11")],
    }
    parts.update(changes)
    return parts


def check(compute_network=None, **changes):
    return cluster_network.check_cluster(compute_network or network(), field_prefix=PREFIX, **cluster(**changes))


def found(findings, code=None, severity=None):
    return [(f["code"], f["field"]) for f in findings
            if (code is None or f["code"] == code) and (severity is None or f["severity"] == severity)]


def test_a_matching_kubeadm_cluster_passes_without_a_finding():
    live, findings = check()
    assert findings == []
    assert live == {"kubeadm": True, "service_cidr": "172.28.0.0/16", "pod_cidr": "172.27.0.0/16",
                    "cluster_domain": "cluster.local", "kubernetes_service_ip": "172.28.0.1",
                    "cluster_dns_ip": "172.28.0.10",
                    "node_addresses": [{"name": "edge-1", "addresses": ["192.168.10.11"]}]}


# -- kubeadm's ClusterConfiguration ------------------------------------------------------------

@pytest.mark.parametrize("part, value, field, message", [
    ("service", "10.96.0.0/12", "service_cidr", "the site has 172.28.0.0/16; the cluster has 10.96.0.0/12 "
     "(kube-system/kubeadm-config ClusterConfiguration networking.serviceSubnet)"),
    ("service", "172.28.0.0/20", "service_cidr", "the cluster has 172.28.0.0/20"),
    ("pod", "10.244.0.0/16", "pod_cidr", "the site has 172.27.0.0/16; the cluster has 10.244.0.0/16 "
     "(kube-system/kubeadm-config ClusterConfiguration networking.podSubnet)"),
    ("pod", "172.27.0.0/17", "pod_cidr", "the cluster has 172.27.0.0/17"),
    ("pod", "not-a-cidr", "pod_cidr", "the cluster has not-a-cidr"),
    ("domain", "edge.example", "cluster_domain", "the site has cluster.local; the cluster has edge.example "
     "(kube-system/kubeadm-config ClusterConfiguration networking.dnsDomain)"),
])
def test_a_kubeadm_setting_that_differs_is_a_mismatch(part, value, field, message):
    _live, findings = check(kubeadm_config=kubeadm_config(**{part: value}))
    (mismatch,) = [f for f in findings if f["code"] == "cluster_network_mismatch"]
    assert (mismatch["severity"], mismatch["field"]) == ("error", PREFIX + field)
    assert message in mismatch["message"]


@pytest.mark.parametrize("cluster_pod_subnet", ["172.26.0.0/15", "172.0.0.0/8"])
def test_a_pod_cidr_inside_the_clusters_pod_subnet_is_a_warning_not_a_mismatch(cluster_pod_subnet):
    _live, findings = check(kubeadm_config=kubeadm_config(pod=cluster_pod_subnet))
    assert found(findings) == [("cluster_pod_cidr_inside", PREFIX + "pod_cidr")]
    (inside,) = findings
    assert inside["severity"] == "warning"
    assert "the site has 172.27.0.0/16, inside the cluster's %s" % cluster_pod_subnet in inside["message"]


def test_a_service_cidr_inside_the_clusters_service_subnet_is_still_a_mismatch():
    _live, findings = check(kubeadm_config=kubeadm_config(service="172.28.0.0/15"))
    assert ("cluster_network_mismatch", PREFIX + "service_cidr") in found(findings)


def test_dual_stack_subnets_are_compared_by_their_ipv4_part():
    config = kubeadm_config(service="172.28.0.0/16,fd00:10:96::/112", pod="fd00:10:244::/56, 172.27.0.0/16")
    live, findings = check(kubeadm_config=config,
                           kubernetes_service=service("default", "kubernetes", "172.28.0.1", "fd00:10:96::1"),
                           dns_service=service("kube-system", "kube-dns", "fd00:10:96::a", "172.28.0.10"))
    assert findings == []
    assert live["pod_cidr"] == "fd00:10:244::/56, 172.27.0.0/16" and live["cluster_dns_ip"] == "172.28.0.10"


def test_a_dual_stack_subnet_whose_ipv4_part_differs_is_a_mismatch():
    _live, findings = check(kubeadm_config=kubeadm_config(pod="10.244.0.0/16,fd00:10:244::/56"))
    assert found(findings) == [("cluster_network_mismatch", PREFIX + "pod_cidr")]


def test_an_ipv6_only_cluster_subnet_is_a_mismatch():
    _live, findings = check(kubeadm_config=kubeadm_config(service="fd00:10:96::/112"))
    mismatch = [f for f in findings if f["code"] == "cluster_network_mismatch"]
    assert [f["field"] for f in mismatch] == [PREFIX + "service_cidr"]
    assert "the cluster has no IPv4 one: fd00:10:96::/112" in mismatch[0]["message"]


def test_host_bits_and_case_are_not_differences():
    _live, findings = check(kubeadm_config=kubeadm_config(service="172.28.0.5/16", domain="Cluster.Local."))
    assert findings == []


def test_a_dns_domain_left_out_is_kubeadms_default():
    assert check(kubeadm_config=kubeadm_config(domain=None))[1] == []
    _live, findings = check(network(cluster_domain="edge.example"), kubeadm_config=kubeadm_config(domain=None))
    assert found(findings) == [("cluster_network_mismatch", PREFIX + "cluster_domain")]


def test_no_pod_subnet_in_kubeadm_config_is_said_not_compared():
    _live, findings = check(kubeadm_config=kubeadm_config(pod=None))
    assert found(findings) == [("cluster_network_unknown", PREFIX + "pod_cidr")]
    assert findings[0]["severity"] == "warning"


def test_a_cluster_without_kubeadm_config_is_compared_on_what_it_has():
    live, findings = check(kubeadm_config=[])
    assert found(findings) == [("cluster_network_unknown", "kubeadm_config")]
    assert findings[0]["severity"] == "warning"
    assert "the pod CIDR and the DNS domain are not compared" in findings[0]["message"]
    assert live["kubeadm"] is False and live["service_cidr"] is None and live["cluster_domain"] is None
    # The Services and Nodes still count.
    _live, findings = check(kubeadm_config=[], kubernetes_service=service("default", "kubernetes", "10.43.0.1"))
    assert found(findings, severity="error") == [("cluster_network_mismatch", PREFIX + "service_cidr")]


@pytest.mark.parametrize("text", ["{unclosed: [", "- a list", "42"])
def test_an_unreadable_kubeadm_config_is_a_warning_not_a_crash(text):
    _live, findings = check(kubeadm_config=kubeadm_config(text=text))
    assert found(findings) == [("cluster_network_unknown", "kubeadm_config")]


# -- the kubernetes Service: first address of the service CIDR ----------------------------------

@pytest.mark.parametrize("ip", ["10.96.0.1", "172.28.0.2", "172.28.128.1"])
def test_a_kubernetes_service_off_the_first_address_is_a_mismatch(ip):
    _live, findings = check(kubernetes_service=service("default", "kubernetes", ip))
    (mismatch,) = findings
    assert (mismatch["code"], mismatch["field"]) == ("cluster_network_mismatch", PREFIX + "service_cidr")
    assert "the site has 172.28.0.0/16, whose first address is 172.28.0.1" in mismatch["message"]
    assert mismatch["message"].endswith("is at %s" % ip)


def test_a_missing_kubernetes_service_is_said_not_compared():
    _live, findings = check(kubernetes_service=[])
    assert found(findings) == [("cluster_network_unknown", PREFIX + "service_cidr")]


def test_an_ipv6_primary_kubernetes_service_is_said_not_compared():
    _live, findings = check(kubernetes_service=service("default", "kubernetes", "fd00:10:96::1"))
    assert found(findings) == [("cluster_network_unknown", PREFIX + "service_cidr")]


# -- kube-dns: in the service CIDR, at its tenth address -----------------------------------------

def test_kube_dns_outside_the_service_cidr_is_a_mismatch():
    live, findings = check(dns_service=service("kube-system", "kube-dns", "10.96.0.10"))
    assert found(findings) == [("cluster_network_mismatch", PREFIX + "service_cidr")]
    assert "kube-system/kube-dns is at 10.96.0.10, outside it" in findings[0]["message"]
    assert live["cluster_dns_ip"] == "10.96.0.10"


def test_kube_dns_inside_but_not_tenth_is_a_warning_and_its_address_is_used():
    result, findings = cluster_network.check_run(dict(cluster(dns_service=service("kube-system", "kube-dns",
                                                                                  "172.28.0.53")),
                                                      compute_network=network(), field_prefix=PREFIX))
    assert found(findings) == [("cluster_dns_ip_differs", PREFIX + "service_cidr")]
    assert findings[0]["severity"] == "warning"
    assert result["cluster_dns_ip"] == "172.28.0.53"


@pytest.mark.parametrize("dns", [[], service("kube-system", "kube-dns")], ids=["absent", "headless"])
def test_no_kube_dns_address_is_said_and_the_tenth_address_is_used(dns):
    result, findings = cluster_network.check_run(dict(cluster(dns_service=dns), compute_network=network(),
                                                      field_prefix=PREFIX))
    assert found(findings) == [("cluster_network_unknown", PREFIX + "service_cidr")]
    assert result["cluster_dns_ip"] == "172.28.0.10" and result["cluster"]["cluster_dns_ip"] is None


# -- Nodes: InternalIP in the node IPs ----------------------------------------------------------

def test_a_node_outside_the_node_ips_is_a_mismatch_naming_it():
    _live, findings = check(nodes=[node("edge-1", "192.168.10.11"), node("edge-2", "192.168.10.40")])
    (mismatch,) = findings
    assert (mismatch["code"], mismatch["severity"], mismatch["field"]) == (
        "cluster_network_mismatch", "error", PREFIX + "node_ips")
    assert mismatch["message"] == ("the site has 192.168.10.11-192.168.10.12; the cluster's Node edge-2 has the "
                                   "InternalIP 192.168.10.40, outside them")


def test_dual_stack_nodes_are_compared_by_their_ipv4_internal_ip():
    assert check(nodes=[node("edge-1", "fd00::11", "192.168.10.12")])[1] == []
    _live, findings = check(nodes=[node("edge-1", "fd00::11", "10.0.0.12")])
    assert found(findings) == [("cluster_network_mismatch", PREFIX + "node_ips")]


def test_nodes_without_an_ipv4_internal_ip_are_said_not_compared():
    _live, findings = check(nodes=[node("edge-1", "192.168.10.11"), node("edge-v6", "fd00::12"), node("bare")])
    assert found(findings) == [("cluster_network_unknown", PREFIX + "node_ips")]
    assert "edge-v6 (fd00::12); bare (none)" in findings[0]["message"]


def test_no_node_is_said_not_compared():
    _live, findings = check(nodes=[])
    assert found(findings) == [("cluster_network_unknown", PREFIX + "node_ips")]


def test_many_nodes_outside_are_reported_within_bounds():
    nodes = [node("n%d" % i, "10.1.%d.%d" % (i // 250, i % 250 + 1)) for i in range(5000)]
    _live, findings = check(nodes=nodes)
    assert len(findings) == cluster_network.MAX_NODE_FINDINGS + 1
    assert findings[-1]["message"].endswith("4980 more Nodes have an InternalIP outside them")


# -- every problem at once, hostile values, the site itself --------------------------------------

def test_every_disagreement_is_reported_at_once():
    _live, findings = check(kubeadm_config=kubeadm_config(service="10.96.0.0/12", pod="10.244.0.0/16",
                                                          domain="edge.example"),
                            kubernetes_service=service("default", "kubernetes", "10.96.0.1"),
                            dns_service=service("kube-system", "kube-dns", "10.96.0.10"),
                            nodes=[node("edge-1", "10.0.0.11")])
    assert sorted(found(findings, "cluster_network_mismatch")) == sorted([
        ("cluster_network_mismatch", PREFIX + f) for f in
        ("service_cidr", "pod_cidr", "cluster_domain", "service_cidr", "service_cidr", "node_ips")])


def test_values_from_the_cluster_are_shown_on_one_line_and_bounded():
    _live, findings = check(nodes=[node("edge\n1", "10.0.0.11")],
                            kubeadm_config=kubeadm_config(domain="x" * 500 + "\nevil"))
    assert all("\n" not in f["message"] and len(f["message"]) < 400 for f in findings)


def test_garbage_objects_are_not_a_crash():
    _live, findings = cluster_network.check_cluster(network(), kubeadm_config=[{"data": "x"}],
                                                    kubernetes_service=[{"spec": []}], dns_service=[{}],
                                                    nodes=[{"status": {"addresses": "x"}}, {"metadata": 3}])
    assert {f["severity"] for f in findings} == {"warning"}


def test_a_site_that_did_not_pass_the_check_is_refused_not_compared():
    _live, findings = cluster_network.check_cluster({"service_cidr": "banana"}, **cluster())
    assert ("invalid_address", "compute_network.service_cidr") in found(findings)
    assert ("invalid_address", "compute_network.node_ips") in found(findings)
