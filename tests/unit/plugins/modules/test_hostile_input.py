"""Issue 14's defects 4-10, each as Ansible runs the module: a coded finding naming the setting,
never a Python exception, and nothing rendered from a refused value."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgeops.k8s_network.plugins.modules import (
    calico_config, compute_ip_probe, compute_network_check, coredns_config, metallb_config, verify_config)

SITE = {
    "node_ips": ["192.168.10.11-192.168.10.12"],
    "external_service_ips": ["192.168.10.100-192.168.10.119"],
    "subnet": "192.168.10.0/24",
    "gateway": "192.168.10.1",
    "mtu": 1500,
}
NETWORK = {
    "subnet": "192.168.10.0/24",
    "gateway": "192.168.10.1",
    "node_ips": {"ranges": ["192.168.10.11-192.168.10.12"]},
    "external_service_ips": {"ranges": ["192.168.10.100-192.168.10.119"]},
    "pod_cidr": "172.27.0.0/16",
    "service_cidr": "172.28.0.0/16",
    "cluster_domain": "cluster.local",
    "cluster_dns_ip": "172.28.0.10",
    "dns_servers": ["192.168.10.53"],
    "mtu": 1500,
}


def run(capsys, module, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def findings(result):
    return sorted((f["code"], f["field"]) for f in result.get("findings", []))


def refused(result, code, field):
    assert result.get("failed") is True, result
    assert (code, field) in findings(result), findings(result)
    assert "Traceback" not in json.dumps(result)


# 4: `$` matches before a final newline; no validator may let a newline through. (Surrounding
# whitespace, as a survey field may add, is trimmed where the value is normalised: that is no pass.)
def test_cluster_domain_with_a_newline_is_refused(capsys):
    result = run(capsys, compute_network_check, cluster_domain="cluster\n.local", **SITE)
    refused(result, "cluster_domain_invalid", "cluster_domain")


@pytest.mark.parametrize("args, code, field", [
    ({"pools": [{"name": "p\n", "addresses": ["192.168.10.100-192.168.10.109"]}]},
     "metallb_pool_name_invalid", "pools[0].name"),
    ({"namespace": "metallb-system\n"}, "metallb_namespace_invalid", "namespace"),
    ({"namespace": ""}, "metallb_namespace_invalid", "namespace"),
    ({"node_selectors": {"zone": "v\n"}}, "metallb_node_selector_invalid", "node_selectors[0]"),
    ({"node_selectors": {"zone\n": "v"}}, "metallb_node_selector_invalid", "node_selectors[0]"),
    ({"l2_interfaces": ["eth\n1"]}, "metallb_interface_invalid", "l2_interfaces[0]"),
    # 8: an IPv6 pool cannot be announced in layer 2 on an IPv4 compute segment.
    ({"pools": [{"name": "all", "addresses": ["::/0"]}]}, "service_ips_outside_subnet", "pools[0].addresses"),
], ids=["pool_name", "namespace_newline", "namespace_empty", "selector_value", "selector_key", "interface",
        "ipv6_pool_layer2"])
def test_metallb_refuses(capsys, args, code, field):
    refused(run(capsys, metallb_config, compute_network=NETWORK, **args), code, field)


# 5: exceptions become findings.
def test_deeply_nested_corefile_is_refused(capsys):
    corefile = ".:53 {\n" + "a {\n" * 10000 + "}\n" * 10000 + "}\n"
    refused(run(capsys, coredns_config, corefile=corefile, compute_network=NETWORK), "corefile_too_deep", "corefile")


@pytest.mark.parametrize("live", [
    [{"kind": "Installation", "apiVersion": "operator.tigera.io/v1", "spec": "x"}],
    [{"kind": "Installation", "apiVersion": "operator.tigera.io/v1", "metadata": "y"}],
    [{"kind": "Installation", "apiVersion": "operator.tigera.io/v1", "spec": {"calicoNetwork": "x"}}],
    [{"kind": "Installation", "apiVersion": "operator.tigera.io/v1", "spec": {"calicoNetwork": {"ipPools": "x"}}}],
    [{"kind": "IPPool", "apiVersion": "crd.projectcalico.org/v1", "metadata": {"name": "p", "labels": "x"},
      "spec": {"cidr": "172.27.0.0/16"}}],
    [{"kind": "IPPool", "apiVersion": "crd.projectcalico.org/v1", "metadata": {"name": {"a": 1}},
      "spec": {"cidr": "172.27.0.0/16"}}],
    [{"kind": "IPPool", "apiVersion": "crd.projectcalico.org/v1", "metadata": {"name": "evil\nkind: Secret"},
      "spec": {"cidr": "10.0.0.0/16"}}],
], ids=["spec", "metadata", "calicoNetwork", "ipPools", "labels", "name_type", "name_newline"])
def test_calico_reads_malformed_live_objects_without_crashing(capsys, live):
    result = run(capsys, calico_config, compute_network=NETWORK, live=live)
    assert "exception" not in result, result.get("exception")
    assert all(f["code"] == "calico_live_invalid" for f in result["findings"]), result["findings"]


def test_probe_interface_with_a_null_byte_is_refused(capsys):
    result = run(capsys, compute_ip_probe, interface="eth1\u0000", addresses=["192.168.10.11"])
    refused(result, "interface_missing", "interface")
    assert "embedded null byte" not in result["msg"]


# 6: coredns refuses what CoreDNS could not start with.
@pytest.mark.parametrize("args, code, field", [
    ({"forwarders": ["/etc/resolv.conf\nimport /etc/shadow"]}, "forward_invalid_upstream", "forwarders"),
    ({"forwarders": ["/etc/resolv conf"]}, "forward_invalid_upstream", "forwarders"),
    ({"forwarders": [""]}, "forward_invalid_upstream", "forwarders"),
    ({"forwarders": ["192.168.10.53", " "]}, "forward_invalid_upstream", "forwarders"),
    ({"forwarders": ["1.2.3.4{$X} }"]}, "forward_invalid_upstream", "forwarders"),
    ({"stub_domains": {"corp.example": ["10.0.0.1 } evil {"]}}, "forward_invalid_upstream",
     "stub_domains.corp.example"),
    ({"stub_domains": {"corp\n.example": ["10.0.0.1"]}}, "stub_domain_invalid", "stub_domains.corp\n.example"),
    # 7: object names validated as Kubernetes names.
    ({"namespace": "Kube System!\nx: y"}, "coredns_name_invalid", "namespace"),
    ({"configmap_name": "core dns:\n- a"}, "coredns_name_invalid", "configmap_name"),
    # 10: a hosts entry must not shadow a cluster name ahead of the kubernetes plugin.
    ({"hosts": [{"ip": "10.0.0.1", "names": ["kubernetes.default.svc.cluster.local"]}]},
     "hosts_in_cluster_domain", "hosts[0]"),
    ({"hosts": [{"ip": "10.0.0.1", "names": ["cluster.local"]}]}, "hosts_in_cluster_domain", "hosts[0]"),
    ({"hosts": [{"ip": "10.0.0.1", "names": ["ok\u0000.example"]}]}, "hosts_entry_invalid", "hosts[0]"),
], ids=["file_newline", "file_space", "empty", "blank_among_good", "placeholder_tail", "stub_braces",
        "stub_zone_newline", "namespace", "configmap_name", "hosts_kubernetes_name", "hosts_cluster_domain",
        "hosts_newline"])
def test_coredns_refuses(capsys, args, code, field):
    refused(run(capsys, coredns_config, compute_network=NETWORK, **args), code, field)


def test_coredns_keeps_a_plain_file_forwarder_and_a_placeholder(capsys):
    result = run(capsys, coredns_config, compute_network=NETWORK, forwarders=["/etc/resolv.conf"])
    assert "forward . /etc/resolv.conf" in result["corefile"]
    result = run(capsys, coredns_config, compute_network=NETWORK, forwarders=["{$UPSTREAM}"])
    assert "forward . {$UPSTREAM}" in result["corefile"]


# 7: Calico's pool name.
@pytest.mark.parametrize("name", ["evil\nkind: Secret", "Default", "", "a" * 254])
def test_calico_pool_name_must_be_an_object_name(capsys, name):
    refused(run(capsys, calico_config, compute_network=NETWORK, pool_name=name), "calico_pool_name_invalid", "pool_name")


# 9: the check's own bounds.
@pytest.mark.parametrize("args, code, field", [
    ({"node_count": -5}, "node_count_invalid", "node_count"),
    ({"node_count": 0}, "node_count_invalid", "node_count"),
    ({"block_size": 0}, "calico_block_size_invalid", "block_size"),
    ({"block_size": 33}, "calico_block_size_invalid", "block_size"),
    ({"mtu_min": 2000, "mtu_max": 100}, "mtu_bounds_invalid", "mtu_min"),
    ({"mtu_max": 70000}, "mtu_bounds_invalid", "mtu_max"),
    ({"mtu_min": 1600, "mtu_max": 1500}, "mtu_bounds_invalid", "mtu_min"),
    ({"mtu_min": 0}, "mtu_bounds_invalid", "mtu_min"),
], ids=["node_count_negative", "node_count_zero", "block_size_0", "block_size_33", "mtu_bounds_absurd", "mtu_max_huge",
        "mtu_bounds_reversed", "mtu_min_zero"])
def test_check_refuses_its_bounds(capsys, args, code, field):
    settings = dict(SITE, **args)
    refused(run(capsys, compute_network_check, **settings), code, field)


# 3 (module level): the verify app's namespace cannot add an object.
def test_verify_namespace_cannot_inject_an_object(capsys):
    result = run(capsys, verify_config, compute_network=NETWORK,
                 namespace="edgeops-verify\n---\napiVersion: v1\nkind: ConfigMap")
    refused(result, "verify_namespace_invalid", "namespace")
    assert result["resources"] == []


@pytest.mark.parametrize("args, code, field", [
    ({"db_probe_send": "PING'; rm -rf /; '"}, "verify_probe_invalid", "db_probe_send"),
    ({"db_probe_expect": "x\ny"}, "verify_probe_invalid", "db_probe_expect"),
    ({"db_image": "redis:7\nkind: Secret"}, "verify_image_invalid", "db_image"),
    ({"web_port": 0}, "verify_port_invalid", "web_port"),
    ({"web_port": 6379}, "verify_port_invalid", "web_port"),
    ({"db_replicas": 0}, "verify_replicas_invalid", "db_replicas"),
    ({"web_load_balancer_ip": "192.168.10.100\n"}, "verify_load_balancer_ip_invalid", "web_load_balancer_ip"),
    ({"compute_network": dict(NETWORK, cluster_domain="cluster\n.local")}, "cluster_domain_invalid",
     "compute_network.cluster_domain"),
    ({"compute_network": dict(NETWORK, cluster_dns_ip="10.0.0.10; evil")}, "invalid_address",
     "compute_network.cluster_dns_ip"),
], ids=["probe_send_quote", "probe_expect_newline", "image", "port_zero", "port_shared", "replicas", "lb_ip",
        "cluster_domain", "cluster_dns_ip"])
def test_verify_refuses(capsys, args, code, field):
    settings = dict({"compute_network": NETWORK}, **args)
    refused(run(capsys, verify_config, **settings), code, field)


# ansible-core's own argument checks raise on some wrong types; that ends coded, echoing no value.
def test_an_argument_check_that_raises_is_coded(capsys):
    refused(run(capsys, calico_config, node_address_autodetection=5), "argument_invalid", "options")


def test_an_argument_check_that_raises_echoes_no_value(capsys):
    """The values went unchecked (a password could be among them): none comes back."""
    result = run(capsys, calico_config, node_address_autodetection=[7], pool_name="s3cret-pw-91")
    refused(result, "argument_invalid", "options")
    assert "s3cret-pw-91" not in json.dumps(result)
