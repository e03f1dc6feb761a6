"""The filters of DESIGN.md section 4, called as Python functions.

Their agreement with a brute-force oracle on random ranges is in
tests/unit/plugins/module_utils/test_ipranges.py; the same filters run through Jinja in
tests/integration/filters/test_filters_playbook.py.
"""

import inspect
import os
import time

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.edgeops.k8s_network.plugins.filter import (
    ip_range_cidrs as cidrs_plugin,
    ip_range_contains as contains_plugin,
    ip_range_size as size_plugin,
    ip_ranges_overlap as overlap_plugin,
    loadbalancer_ips as lb_plugin,
)
from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges

ip_range_size = size_plugin.ip_range_size
ip_range_cidrs = cidrs_plugin.ip_range_cidrs
ip_range_contains = contains_plugin.ip_range_contains
ip_ranges_overlap = overlap_plugin.ip_ranges_overlap
loadbalancer_ips = lb_plugin.loadbalancer_ips

PLUGINS = [size_plugin, cidrs_plugin, contains_plugin, overlap_plugin, lb_plugin]


def filter_error(call, *args, **kwargs):
    with pytest.raises(AnsibleFilterError) as info:
        call(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------
# Every plugin file: one filter, named like the file, documented as it behaves
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.__name__.rsplit(".", 1)[-1])
def test_one_filter_per_file_documented_like_its_signature(plugin):
    name = os.path.splitext(os.path.basename(plugin.__file__))[0]
    assert list(plugin.FilterModule().filters()) == [name]
    function = plugin.FilterModule().filters()[name]

    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc["name"] == name
    assert yaml.safe_load(plugin.RETURN)["_value"]["type"]
    assert isinstance(yaml.safe_load(plugin.EXAMPLES), list)

    parameters = list(inspect.signature(function).parameters.values())
    documented = dict(doc["options"])
    assert documented.pop("_input")["required"] is True
    assert sorted(documented) == sorted(p.name for p in parameters[1:])
    for parameter in parameters[1:]:
        option = documented[parameter.name]
        if parameter.default is inspect.Parameter.empty:
            assert option.get("required") is True, parameter.name
        else:
            assert option.get("default") == parameter.default, parameter.name
    assert "edgeops.k8s_network." + name in plugin.EXAMPLES


# ---------------------------------------------------------------------------
# ip_range_size
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("192.168.10.20-192.168.10.29", 10),
    ("192.168.10.7", 1),
    ("192.168.10.0/30", 4),
    ("10.0.0.0/8", 2 ** 24),
    ("0.0.0.0/0", 2 ** 32),
    ("2001:db8::/64", 2 ** 64),
    ("2001:db8::1-2001:db8::ff", 255),
    ("10.0.0.0/30, 10.0.0.2-10.0.0.5, 10.0.0.9", 7),
    (["10.0.0.0/30", "10.0.0.2-10.0.0.5,10.0.0.9"], 7),
    (["10.0.0.1", "::1"], 2),
    ("10.0.0.5/24", 256),
    ("", 0),
    ([], 0),
])
def test_ip_range_size(value, expected):
    assert ip_range_size(value) == expected


def test_ip_range_size_of_a_slash_8_is_immediate():
    started = time.perf_counter()
    assert ip_range_size(["10.0.0.0/8", "11.0.0.0/8", "2001:db8::/32"]) == 2 * 2 ** 24 + 2 ** 96
    assert time.perf_counter() - started < 0.5


# ---------------------------------------------------------------------------
# ip_range_cidrs
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("192.168.10.20-192.168.10.29", ["192.168.10.20/30", "192.168.10.24/30", "192.168.10.28/31"]),
    ("10.0.0.0-10.255.255.255", ["10.0.0.0/8"]),
    ("10.0.0.1-10.255.255.254", [
        "10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/29", "10.0.0.16/28", "10.0.0.32/27",
        "10.0.0.64/26", "10.0.0.128/25", "10.0.1.0/24", "10.0.2.0/23", "10.0.4.0/22", "10.0.8.0/21",
        "10.0.16.0/20", "10.0.32.0/19", "10.0.64.0/18", "10.0.128.0/17", "10.1.0.0/16", "10.2.0.0/15",
        "10.4.0.0/14", "10.8.0.0/13", "10.16.0.0/12", "10.32.0.0/11", "10.64.0.0/10", "10.128.0.0/10",
        "10.192.0.0/11", "10.224.0.0/12", "10.240.0.0/13", "10.248.0.0/14", "10.252.0.0/15",
        "10.254.0.0/16", "10.255.0.0/17", "10.255.128.0/18", "10.255.192.0/19", "10.255.224.0/20",
        "10.255.240.0/21", "10.255.248.0/22", "10.255.252.0/23", "10.255.254.0/24", "10.255.255.0/25",
        "10.255.255.128/26", "10.255.255.192/27", "10.255.255.224/28", "10.255.255.240/29",
        "10.255.255.248/30", "10.255.255.252/31", "10.255.255.254/32"]),
    (["10.0.0.0/25", "10.0.0.128-10.0.0.255"], ["10.0.0.0/24"]),
    ("10.0.0.9, 10.0.0.8", ["10.0.0.8/31"]),
    ("2001:db8::1-2001:db8::6", ["2001:db8::1/128", "2001:db8::2/127", "2001:db8::4/127", "2001:db8::6/128"]),
    ("::1, 10.0.0.1", ["10.0.0.1/32", "::1/128"]),
    ("::1/128, 0.0.0.1/32", ["0.0.0.1/32", "::1/128"]),
    ("10.0.0.5/24", ["10.0.0.0/24"]),
    ("", []),
])
def test_ip_range_cidrs(value, expected):
    assert ip_range_cidrs(value) == expected


# ---------------------------------------------------------------------------
# ip_range_contains
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("container, item, expected", [
    ("192.168.10.0/24", "192.168.10.11-192.168.10.14", True),
    ("192.168.10.20-192.168.10.29", "192.168.10.30", False),
    ("192.168.10.20-192.168.10.29", "192.168.10.29", True),
    ("192.168.10.20-192.168.10.29", "192.168.10.19-192.168.10.25", False),
    (["10.0.0.0-10.0.0.9", "10.0.0.10-10.0.0.19"], "10.0.0.5-10.0.0.15", True),
    ("10.0.0.0-10.0.0.9, 10.0.0.11-10.0.0.19", "10.0.0.5-10.0.0.15", False),
    ("10.0.0.0/8", "10.255.255.255, 10.0.0.0", True),
    ("10.0.0.0/8", "10.0.0.0/7", False),
    ("10.0.0.0/30", "10.0.0.0/8", False),
    ("2001:db8::/64", "2001:db8::1-2001:db8::ffff", True),
    ("2001:db8::/64", "2001:db8:0:1::1", False),
    ("0.0.0.0/0", "::1", False),
    ("::/0", "10.0.0.1", False),
    ("0.0.0.0/0", "::1/128", False),
    ("::/96", "::1/128", True),
    ("10.0.0.0/8", "", True),
    ("", "10.0.0.1", False),
])
def test_ip_range_contains(container, item, expected):
    assert ip_range_contains(container, item) is expected


# ---------------------------------------------------------------------------
# ip_ranges_overlap
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, expected", [
    ("10.233.0.0/16", "10.233.0.0/18", True),                       # supernet
    ("10.233.0.0/18", "10.233.0.0/16", True),                       # subnet
    ("10.0.0.0-10.0.0.20", "10.0.0.10-10.0.0.30", True),             # partial
    ("192.168.10.11-192.168.10.20", "192.168.10.20-192.168.10.29", True),   # touching at one address
    ("192.168.10.11-192.168.10.19", "192.168.10.20-192.168.10.29", False),  # adjacent
    ("172.27.0.0/16", "172.28.0.0/16", False),
    ("10.0.0.0/8", ["192.168.0.0/16", "10.255.255.255"], True),
    ("2001:db8::/48", "2001:db8:0:ffff::-2001:db9::", True),
    ("2001:db8::/48", "2001:db9::/48", False),
    ("0.0.0.0/0", "::/0", False),
    ("0.0.0.1-0.0.0.9", "::1-::9", False),
    ("0.0.0.0/24", "::/120", False),
    ("0.0.0.1", "::1/128", False),
    ("", "10.0.0.0/8", False),
    ("10.0.0.0/8", [], False),
])
def test_ip_ranges_overlap(a, b, expected):
    assert ip_ranges_overlap(a, b) is expected
    assert ip_ranges_overlap(b, a) is expected


# ---------------------------------------------------------------------------
# Bad input: a clear error with the code, never a traceback
# ---------------------------------------------------------------------------

BAD = [
    ("10.1", "invalid_address"),
    ("999.1.1.1", "invalid_address"),
    ("1.2.3.4-", "invalid_address"),
    ("garbage", "invalid_address"),
    (["10.0.0.1", "nope"], "invalid_address"),
    ({"a": 1}, "invalid_address"),
    (42, "invalid_address"),
    ("10.0.0.0/33", "invalid_address"),
    ("10.0.0.9-10.0.0.1", "range_reversed"),
    ("10.0.0.1-2001:db8::1", "mixed_family"),
]


@pytest.mark.parametrize("value, code", BAD)
def test_single_argument_filters_report_the_code(value, code):
    for function in (ip_range_size, ip_range_cidrs):
        message = filter_error(function, value)
        assert message.startswith(code + ": "), message
        assert "Traceback" not in message


@pytest.mark.parametrize("value, code", BAD)
def test_two_argument_filters_report_the_code_and_the_side(value, code):
    assert filter_error(ip_range_contains, value, "10.0.0.1").startswith(code + ": container: ")
    assert filter_error(ip_range_contains, "10.0.0.0/8", value).startswith(code + ": item: ")
    assert filter_error(ip_ranges_overlap, value, "10.0.0.1").startswith(code + ": input: ")
    assert filter_error(ip_ranges_overlap, "10.0.0.0/8", value).startswith(code + ": other: ")


def test_error_message_quotes_the_bad_entry():
    message = filter_error(ip_range_size, "10.0.0.1, 10.0.0.9-10.0.0.1")
    assert "range_reversed" in message and "10.0.0.9-10.0.0.1" in message


@pytest.mark.parametrize("call", [
    lambda: ip_range_size("10.0.0.1"),
    lambda: ip_range_cidrs("10.0.0.1"),
    lambda: ip_range_contains("10.0.0.1", "10.0.0.1"),
    lambda: ip_ranges_overlap("10.0.0.1", "10.0.0.1"),
])
def test_missing_netaddr_is_named(monkeypatch, call):
    monkeypatch.setattr(ipranges, "HAS_NETADDR", False)
    with pytest.raises(AnsibleFilterError, match="netaddr"):
        call()


# ---------------------------------------------------------------------------
# loadbalancer_ips
# ---------------------------------------------------------------------------

def service(namespace, name, type_="LoadBalancer", ingress=None, kind=None):
    obj = {
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"type": type_, "clusterIP": "172.28.0.50"},
        "status": {"loadBalancer": {"ingress": ingress} if ingress is not None else {}},
    }
    if kind:
        obj["kind"] = kind
        obj["apiVersion"] = "v1"
    return obj


SERVICES = [
    service("shop", "web", ingress=[{"ip": "192.168.10.20", "ipMode": "VIP"}]),
    service("shop", "db", type_="ClusterIP"),
    service("shop", "pending"),                                          # no address yet
    service("kube-system", "dns-tcp", ingress=[{"ip": "192.168.10.21"}]),
    service("kube-system", "dns-udp", ingress=[{"ip": "192.168.10.21"}]),  # allow-shared-ip
    service("edge", "dual", ingress=[{"ip": "192.168.10.22"}, {"ip": "2001:db8::22"}]),
    service("edge", "named", ingress=[{"hostname": "lb.example.test"}]),
    service("edge", "node-port", type_="NodePort"),
]
K8S_INFO = {"changed": False, "api_found": True, "failed": False, "resources": SERVICES}


def test_loadbalancer_ips_from_a_k8s_info_result():
    assert loadbalancer_ips(K8S_INFO) == ["192.168.10.20", "192.168.10.21", "192.168.10.22", "2001:db8::22"]


def test_loadbalancer_ips_from_a_list_and_from_one_service():
    assert loadbalancer_ips(SERVICES) == loadbalancer_ips(K8S_INFO)
    assert loadbalancer_ips(SERVICES[0]) == ["192.168.10.20"]
    assert loadbalancer_ips(SERVICES[1]) == []


def test_loadbalancer_ips_detail_is_one_entry_per_service_and_address():
    assert loadbalancer_ips(K8S_INFO, detail=True) == [
        {"namespace": "shop", "name": "web", "ip": "192.168.10.20"},
        {"namespace": "kube-system", "name": "dns-tcp", "ip": "192.168.10.21"},
        {"namespace": "kube-system", "name": "dns-udp", "ip": "192.168.10.21"},
        {"namespace": "edge", "name": "dual", "ip": "192.168.10.22"},
        {"namespace": "edge", "name": "dual", "ip": "2001:db8::22"},
    ]
    assert loadbalancer_ips(K8S_INFO, detail="yes") == loadbalancer_ips(K8S_INFO, detail=True)
    assert loadbalancer_ips(K8S_INFO, detail="false") == loadbalancer_ips(K8S_INFO)


def test_loadbalancer_ips_skips_objects_of_another_kind():
    lookalike = service("edge", "ingress", ingress=[{"ip": "192.168.10.99"}], kind="Ingress")
    typed = service("edge", "typed", ingress=[{"ip": "192.168.10.23"}], kind="Service")
    assert loadbalancer_ips([lookalike, typed]) == ["192.168.10.23"]


def test_loadbalancer_ips_of_nothing():
    assert loadbalancer_ips({"resources": []}) == []
    assert loadbalancer_ips([]) == []
    assert loadbalancer_ips([], detail=True) == []


def test_loadbalancer_ips_feed_ip_range_contains():
    assert ip_range_contains("192.168.10.20-192.168.10.29, 2001:db8::/64", loadbalancer_ips(K8S_INFO))
    assert not ip_range_contains("192.168.10.20-192.168.10.21", loadbalancer_ips(K8S_INFO))


@pytest.mark.parametrize("value, words", [
    ("192.168.10.20", ["invalid_k8s_result", "str"]),
    (42, ["invalid_k8s_result", "int"]),
    (["web"], ["invalid_k8s_result", "item 0"]),
    ({"results": []}, ["invalid_k8s_result", "results"]),
    ({"failed": True, "msg": "Failed to load kubeconfig"}, ["invalid_k8s_result", "Failed to load kubeconfig"]),
])
def test_loadbalancer_ips_bad_input(value, words):
    message = filter_error(loadbalancer_ips, value)
    assert message.startswith("invalid_k8s_result: ")
    for word in words:
        assert word in message


def test_loadbalancer_ips_bad_detail():
    assert filter_error(loadbalancer_ips, K8S_INFO, detail="maybe").startswith("invalid_option: detail")


def test_missing_jmespath_is_named(monkeypatch):
    monkeypatch.setattr(lb_plugin, "HAS_JMESPATH", False)
    with pytest.raises(AnsibleFilterError, match="jmespath"):
        loadbalancer_ips(K8S_INFO)


class TestBgpPeerName:
    """The role names a peer's password Secret with this filter; the module must agree on the name."""

    def test_a_given_name_is_kept(self):
        from ansible_collections.edgeops.k8s_network.plugins.filter.bgp_peer_name import bgp_peer_name
        assert bgp_peer_name({"name": "core-router", "peer_address": "10.0.0.1"}) == "core-router"

    @pytest.mark.parametrize("address,name", [("192.168.10.1", "peer-192-168-10-1"), ("2001:db8::1", "peer-2001-db8--1")])
    def test_the_module_s_name_for_a_nameless_peer(self, address, name):
        from ansible_collections.edgeops.k8s_network.plugins.filter.bgp_peer_name import bgp_peer_name
        from ansible_collections.edgeops.k8s_network.plugins.module_utils import metallb
        peer = {"peer_address": address, "peer_asn": 64512, "my_asn": 64513, "password": "x"}
        assert bgp_peer_name(peer) == name
        rendered = metallb.metallb_config({"protocol": "bgp", "pools": [{"name": "p", "addresses": ["10.9.0.0/24"]}],
                                           "bgp_peers": [dict(peer, name=None, password=None,
                                                              password_secret=True)]})
        assert [r["metadata"]["name"] for r in rendered["resources"] if r["kind"] == "BGPPeer"] == [name]
        assert rendered["password_secrets"][0]["name"] == "metallb-bgp-" + name

    def test_no_name_and_no_address(self):
        from ansible_collections.edgeops.k8s_network.plugins.filter.bgp_peer_name import bgp_peer_name
        assert bgp_peer_name({"peer_asn": 64512}) is None
        with pytest.raises(AnsibleFilterError):
            bgp_peer_name("192.168.10.1")
