"""MetalLB rules and renderings: each rule refused and passed, each object checked against its schema."""

import json
import os
import sys

import jsonschema
import kubernetes_validate
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.edgeops.k8s_network.plugins.module_utils import metallb

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import crd_schema  # noqa: E402  (tests/unit is not a package)

RELEASES = ["metallb/v0.16.1", "metallb/v0.14.9"]

NETWORK = {
    "subnet": "192.168.10.0/24",
    "gateway": "192.168.10.1",
    "node_ips": {"ranges": ["192.168.10.11-192.168.10.12"], "cidrs": [], "count": 2},
    "external_service_ips": {"ranges": ["192.168.10.100-192.168.10.119"], "cidrs": [], "count": 20},
    "pod_cidr": "172.27.0.0/16",
    "service_cidr": "172.28.0.0/16",
    "bgp_peers": [],
}

PEER = {"name": "tor-a", "peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": 64513}


def run(**options):
    return metallb.metallb_config(options)


def codes(result, severity=None):
    return sorted({f["code"] for f in result["findings"] if severity is None or f["severity"] == severity})


def pools(*entries):
    return [{"name": "p%d" % index, "addresses": addresses} for index, addresses in enumerate(entries)]


def kinds(result):
    return [obj["kind"] for obj in result["resources"]]


# ---------------------------------------------------------------------------
# Pools: MetalLB's webhook rules
# ---------------------------------------------------------------------------

def test_good_pools_pass_and_render_as_metallb_writes_them():
    result = run(pools=[{"name": "web", "addresses": "10.0.0.10 - 10.0.0.20, 10.0.1.0/24, 10.0.2.7"},
                        {"name": "v6", "addresses": ["fd00::/120", "fd00:1::1-fd00:1::ff"]}])
    assert result["findings"] == []
    specs = {obj["metadata"]["name"]: obj["spec"] for obj in result["resources"] if obj["kind"] == "IPAddressPool"}
    assert specs["web"]["addresses"] == ["10.0.0.10-10.0.0.20", "10.0.1.0/24", "10.0.2.7/32"]
    assert specs["v6"]["addresses"] == ["fd00::/120", "fd00:1::1-fd00:1::ff"]


@pytest.mark.parametrize("addresses", [[], "", None, " , "])
def test_pool_without_addresses_is_refused(addresses):
    result = run(pools=[{"name": "web", "addresses": addresses}])
    assert codes(result) == ["metallb_pool_empty"]
    assert result["resources"] == []


@pytest.mark.parametrize("entry", ["10.0.0.300/24", "10.0.0.0/33", "banana", "10.0.0.1-nope", "x-10.0.0.1", "10.1"])
def test_bad_cidr_or_range_is_invalid_address(entry):
    result = run(pools=pools([entry]))
    assert codes(result) == ["invalid_address"]
    assert result["findings"][0]["field"] == "pools[0].addresses"


def test_range_start_after_end_is_reversed():
    assert codes(run(pools=pools("10.0.0.20-10.0.0.10"))) == ["range_reversed"]
    assert codes(run(pools=pools("10.0.0.10-10.0.0.10"))) == []


@pytest.mark.parametrize("entry", ["10.0.0.1-2001:db8::1", "2001:db8::1-10.0.0.1"])
def test_mixed_family_range_is_refused_in_either_order(entry):
    # MetalLB accepts the IPv4-first form and the entry then yields no address at all.
    assert codes(run(pools=pools(entry))) == ["mixed_family"]


def test_dual_stack_pool_on_separate_entries_passes():
    assert codes(run(pools=pools(["10.0.0.0/28", "fd00::/124"]))) == []


def test_host_bits_set_is_refused_though_metallb_would_widen_it():
    result = run(pools=pools("192.168.1.5/24"))
    assert codes(result) == ["host_bits_set"]
    assert "192.168.1.0/24" in result["findings"][0]["message"]
    assert codes(run(pools=pools("192.168.1.0/24"))) == []


def test_overlap_inside_one_pool():
    result = run(pools=pools(["10.0.0.0/24", "10.0.0.128-10.0.0.130"]))
    assert codes(result) == ["ranges_overlap"]
    assert "10.0.0.128-10.0.0.130" in result["findings"][0]["message"]


def test_overlap_across_pools_names_both_and_the_shared_part():
    result = run(pools=pools("10.0.0.0/28", "10.0.0.8-10.0.0.40"))
    assert codes(result) == ["ranges_overlap"]
    message = result["findings"][0]["message"]
    assert "'p0'" in message and "'p1'" in message and "10.0.0.8-10.0.0.15" in message


def test_ranges_touching_at_one_address_overlap_adjacent_ones_do_not():
    touching = run(pools=pools("10.0.0.1-10.0.0.10", "10.0.0.10-10.0.0.20"))
    assert codes(touching) == ["ranges_overlap"]
    assert touching["findings"][0]["message"].endswith("at 10.0.0.10")
    assert codes(run(pools=pools("10.0.0.1-10.0.0.10", "10.0.0.11-10.0.0.20"))) == []


def test_same_entry_twice_overlaps():
    assert codes(run(pools=pools(["10.0.0.0/30", "10.0.0.0/30"]))) == ["ranges_overlap"]


def test_ipv4_and_ipv6_with_equal_integers_do_not_overlap():
    assert codes(run(pools=pools("0.0.0.1/32", "::1/128"))) == []


def test_every_overlap_is_found_once_per_entry():
    result = run(pools=pools("10.0.0.0/24", "10.0.0.5/32", "10.0.0.9/32", "10.0.1.0/24"))
    assert [f["field"] for f in result["findings"]] == ["pools[1].addresses", "pools[2].addresses"]


def _brute_force_overlaps(spans):
    owners = {}
    clashing = set()
    for index, (first, last) in enumerate(spans):
        for address in range(first, last + 1):
            if address in owners:
                clashing.add(index)
            owners.setdefault(address, index)
    return clashing


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 6)), min_size=1, max_size=6))
def test_overlap_sweep_agrees_with_brute_force(raw):
    spans = [(first, first + width) for first, width in raw]
    entries = ["10.0.0.%d-10.0.0.%d" % span for span in spans]
    result = run(pools=[{"name": "p%d" % i, "addresses": [entry]} for i, entry in enumerate(entries)])
    flagged = any(f["code"] == "ranges_overlap" for f in result["findings"])
    assert flagged == bool(_brute_force_overlaps(sorted(spans)))


@pytest.mark.parametrize("name", ["Web", "web_1", "-web", "web-", "", None, "a" * 254, 7])
def test_pool_name_must_be_an_object_name(name):
    assert codes(run(pools=[{"name": name, "addresses": "10.0.0.0/30"}])) == ["metallb_pool_name_invalid"]


@pytest.mark.parametrize("name", ["web", "web-1", "pool.edge-1", "a" * 253])
def test_good_pool_names_pass(name):
    assert codes(run(pools=[{"name": name, "addresses": "10.0.0.0/30"}])) == []


def test_duplicate_pool_name_is_refused():
    result = run(pools=[{"name": "web", "addresses": "10.0.0.0/30"}, {"name": "web", "addresses": "10.0.1.0/30"}])
    assert codes(result) == ["metallb_pool_name_duplicate"]
    assert result["findings"][0]["field"] == "pools[1].name"


@pytest.mark.parametrize("pool", [
    "10.0.0.0/30",
    {"name": "web", "addresses": "10.0.0.0/30", "autoassign": False},
    {"name": "web", "addresses": "10.0.0.0/30", "auto_assign": "sometimes"},
])
def test_malformed_pool_entry_is_refused(pool):
    assert "metallb_pool_invalid" in codes(run(pools=[pool]))


def test_pool_flags_accept_survey_strings():
    result = run(pools=[{"name": "web", "addresses": "10.0.0.0/30", "auto_assign": "no", "avoid_buggy_ips": "yes"}])
    assert result["findings"] == []
    assert result["resources"][0]["spec"]["autoAssign"] is False
    assert result["resources"][0]["spec"]["avoidBuggyIPs"] is True


def test_no_pools_and_no_compute_network_is_refused():
    assert codes(run()) == ["metallb_pools_missing"]
    assert codes(run(pools=[])) == ["metallb_pools_missing"]


# ---------------------------------------------------------------------------
# Against the compute network
# ---------------------------------------------------------------------------

def test_default_pool_comes_from_the_external_service_ips():
    result = run(compute_network=NETWORK)
    assert result["findings"] == []
    assert kinds(result) == ["IPAddressPool", "L2Advertisement"]
    pool = result["resources"][0]
    assert pool["metadata"]["name"] == "default"
    assert pool["spec"]["addresses"] == ["192.168.10.100-192.168.10.119"]
    assert result["resources"][1]["spec"]["ipAddressPools"] == ["default"]


def test_compute_network_without_service_ips_gives_an_empty_pool():
    result = run(compute_network=dict(NETWORK, external_service_ips={"ranges": [], "cidrs": [], "count": 0}))
    assert codes(result) == ["metallb_pool_empty"]


def test_compute_network_must_be_a_mapping():
    assert "metallb_compute_network_invalid" in codes(run(compute_network="192.168.10.0/24"))


def test_pool_over_node_ips_is_refused():
    result = run(compute_network=NETWORK, pools=pools("192.168.10.10-192.168.10.20"))
    assert codes(result) == ["ranges_overlap"]
    assert "192.168.10.11-192.168.10.12" in result["findings"][0]["message"]


def test_pool_over_pod_or_service_cidr_is_refused():
    assert codes(run(compute_network=NETWORK, protocol="bgp", bgp_peers=[PEER],
                     pools=pools("172.27.5.0/24"))) == ["cidr_overlap"]
    assert codes(run(compute_network=NETWORK, protocol="bgp", bgp_peers=[PEER],
                     pools=pools("172.28.0.0/15"))) == ["cidr_overlap"]
    assert codes(run(compute_network=NETWORK, protocol="bgp", bgp_peers=[PEER], pools=pools("172.30.0.0/24"))) == []


def test_pool_including_the_gateway_is_refused():
    assert codes(run(compute_network=NETWORK, pools=pools("192.168.10.1-192.168.10.5"))) == ["reserved_address"]
    assert codes(run(compute_network=NETWORK, pools=pools("192.168.10.2-192.168.10.10"))) == []


def test_layer2_pool_must_be_on_the_compute_subnet_bgp_need_not():
    result = run(compute_network=NETWORK, pools=pools("10.50.0.0/26"))
    assert codes(result) == ["service_ips_outside_subnet"]
    assert codes(run(compute_network=NETWORK, pools=pools("10.50.0.0/26"), protocol="bgp", bgp_peers=[PEER])) == []


# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("options, code", [
    ({"protocol": "arp"}, "metallb_protocol_invalid"),
    ({"format": "helm"}, "metallb_format_invalid"),
    ({"namespace": "MetalLB"}, "metallb_namespace_invalid"),
    ({"namespace": "a.b"}, "metallb_namespace_invalid"),
])
def test_bad_protocol_format_or_namespace(options, code):
    assert codes(run(pools=pools("10.0.0.0/30"), **options)) == [code]


def test_namespace_is_used_everywhere():
    result = run(pools=pools("10.0.0.0/30"), namespace="lb")
    assert {obj["metadata"]["namespace"] for obj in result["resources"]} == {"lb"}


@pytest.mark.parametrize("name", ["a-very-long-interface0", "eth/1", "eth 1"])
def test_bad_interface_name(name):
    assert codes(run(pools=pools("10.0.0.0/30"), l2_interfaces=[name])) == ["metallb_interface_invalid"]


@pytest.mark.parametrize("selectors", [
    {"bad key!": "x"},
    {"role": True},
    {"role": "not valid!"},
    {"role": "x" * 64},
    ["role=edge"],
    [{}],
    "role=edge",
])
def test_bad_node_selector(selectors):
    assert codes(run(pools=pools("10.0.0.0/30"), node_selectors=selectors)) == ["metallb_node_selector_invalid"]


def test_good_node_selectors_as_mapping_or_list():
    one = run(pools=pools("10.0.0.0/30"), node_selectors={"node-role.kubernetes.io/edge": ""})
    assert one["findings"] == []
    assert one["resources"][-1]["spec"]["nodeSelectors"] == [{"matchLabels": {"node-role.kubernetes.io/edge": ""}}]
    two = run(pools=pools("10.0.0.0/30"), node_selectors=[{"zone": "a"}, {"zone": "b"}])
    assert two["resources"][-1]["spec"]["nodeSelectors"] == [{"matchLabels": {"zone": "a"}},
                                                             {"matchLabels": {"zone": "b"}}]


def test_options_the_choice_cannot_express_are_refused_not_dropped():
    assert codes(run(pools=pools("10.0.0.0/30"), protocol="bgp", bgp_peers=[PEER],
                     l2_interfaces=["eth1"])) == ["metallb_option_unsupported"]
    assert codes(run(pools=pools("10.0.0.0/30"), format="configmap",
                     l2_interfaces=["eth1"])) == ["metallb_option_unsupported"]
    assert codes(run(pools=pools("10.0.0.0/30"), format="configmap",
                     node_selectors={"zone": "a"})) == ["metallb_option_unsupported"]
    assert codes(run(pools=pools("10.0.0.0/30"), bgp_peers=[PEER])) == ["metallb_option_unsupported"]
    assert codes(run(pools=pools("10.0.0.0/30"), format="configmap", protocol="bgp", bgp_peers=[PEER],
                     node_selectors={"zone": "a"})) == []


# ---------------------------------------------------------------------------
# BGP peers
# ---------------------------------------------------------------------------

def bgp(*peers, **options):
    return run(pools=pools("10.50.0.0/26"), protocol="bgp", bgp_peers=list(peers), **options)


def test_good_peer_passes():
    result = bgp(dict(PEER, hold_time="1m30s"))
    assert result["findings"] == []
    assert kinds(result) == ["IPAddressPool", "BGPPeer", "BGPAdvertisement"]
    assert result["resources"][1]["spec"] == {"peerAddress": "192.168.10.1", "peerASN": 64512, "myASN": 64513,
                                              "holdTime": "1m30s"}
    assert result["resources"][2]["spec"] == {"ipAddressPools": ["p0"], "peers": ["tor-a"]}


def test_bgp_without_peers_is_refused():
    assert codes(bgp()) == ["metallb_bgp_peers_missing"]


@pytest.mark.parametrize("address", ["192.168.10.300", "", "tor-a.example"])
def test_bad_peer_address(address):
    assert codes(bgp(dict(PEER, peer_address=address))) == ["invalid_address"]


def test_peer_without_address_or_name_reports_the_address_only():
    peer = dict(PEER)
    del peer["name"], peer["peer_address"]
    assert codes(bgp(peer)) == ["invalid_address"]


@pytest.mark.parametrize("key, value", [("peer_asn", 0), ("peer_asn", 65535), ("my_asn", 70000),
                                        ("my_asn", 4294967295), ("peer_asn", "x"), ("my_asn", None), ("peer_asn", True)])
def test_bad_asn(key, value):
    result = bgp(dict(PEER, **{key: value}))
    assert codes(result) == ["bgp_asn_invalid"]
    assert result["findings"][0]["field"] == "bgp_peers[0].%s" % key


@pytest.mark.parametrize("asn", [1, 65534, 131072, 4294967294, "64512"])
def test_good_asn(asn):
    assert codes(bgp(dict(PEER, peer_asn=asn))) == []


@pytest.mark.parametrize("hold_time", [1, 2, "2s", "70000", "90 seconds", "1.5m", -5, True, "500ms"])
def test_bad_hold_time(hold_time):
    assert codes(bgp(dict(PEER, hold_time=hold_time))) == ["metallb_hold_time_invalid"]


@pytest.mark.parametrize("hold_time, rendered", [(0, "0s"), (3, "3s"), ("90", "1m30s"), ("90s", "1m30s"),
                                                 ("1h", "1h0m0s"), (65535, "18h12m15s"), ("3m", "3m0s")])
def test_good_hold_time_is_written_as_go_duration(hold_time, rendered):
    result = bgp(dict(PEER, hold_time=hold_time))
    assert result["findings"] == []
    assert result["resources"][1]["spec"]["holdTime"] == rendered


@pytest.mark.parametrize("name", ["Tor-A", "tor_a", ""])
def test_bad_peer_name(name):
    assert codes(bgp(dict(PEER, name=name))) == ["metallb_peer_name_invalid"]


def test_duplicate_peer_name():
    result = bgp(PEER, dict(PEER, peer_address="192.168.10.2"))
    assert codes(result) == ["metallb_peer_name_duplicate"]


def test_unnamed_peers_get_names_from_their_address():
    result = bgp({"peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": 64513},
                 {"peer_address": "fd00::1", "peer_asn": 64512, "my_asn": 64513})
    assert result["findings"] == []
    assert [obj["metadata"]["name"] for obj in result["resources"] if obj["kind"] == "BGPPeer"] == \
        ["peer-192-168-10-1", "peer-fd00--1"]


@pytest.mark.parametrize("peer", ["192.168.10.1", dict(PEER, passwd="x")])
def test_malformed_peer(peer):
    assert "metallb_peer_invalid" in codes(bgp(peer))


def test_peers_default_to_the_compute_network_peers():
    network = dict(NETWORK, bgp_peers=[{"peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": 64513}])
    result = run(compute_network=network, protocol="bgp")
    assert result["findings"] == []
    peer = [obj for obj in result["resources"] if obj["kind"] == "BGPPeer"][0]
    assert peer["metadata"]["name"] == "peer-192-168-10-1"
    assert peer["spec"]["peerASN"] == 64512


def test_compute_network_peers_are_checked_too():
    network = dict(NETWORK, bgp_peers=[{"peer_address": "192.168.10.1", "peer_asn": 0, "my_asn": 64513}])
    result = run(compute_network=network, protocol="bgp")
    assert codes(result) == ["bgp_asn_invalid"]
    assert result["findings"][0]["field"] == "compute_network.bgp_peers[0].peer_asn"


def test_compute_network_peers_with_layer2_warn():
    network = dict(NETWORK, bgp_peers=[{"peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": 64513}])
    result = run(compute_network=network)
    assert codes(result) == ["metallb_bgp_peers_unused"]
    assert codes(result, "error") == []
    assert kinds(result) == ["IPAddressPool", "L2Advertisement"]
    assert codes(run(compute_network=NETWORK)) == []


# ---------------------------------------------------------------------------
# Passwords
# ---------------------------------------------------------------------------

def test_password_secret_name_is_referenced_with_the_namespace():
    result = bgp(dict(PEER, password_secret="tor-a-md5"), namespace="lb")
    assert result["findings"] == []
    assert result["resources"][1]["spec"]["passwordSecret"] == {"name": "tor-a-md5", "namespace": "lb"}
    assert result["password_secrets"] == [{"peer": "tor-a", "name": "tor-a-md5", "namespace": "lb",
                                           "type": "kubernetes.io/basic-auth", "key": "password"}]


def test_password_secret_true_derives_the_name_the_role_uses():
    result = bgp(dict(PEER, password_secret=True))
    assert result["findings"] == []
    assert result["resources"][1]["spec"]["passwordSecret"]["name"] == "metallb-bgp-tor-a"


def test_no_password_no_secret_reference():
    result = bgp(PEER)
    assert "passwordSecret" not in result["resources"][1]["spec"]
    assert result["password_secrets"] == []


def test_the_secrets_summary_names_every_secret_and_is_empty_without_them():
    two = [{"peer": "tor-a", "name": "tor-a-md5", "namespace": "lb"},
           {"peer": "tor-b", "name": "metallb-bgp-tor-b", "namespace": "metallb-system"}]
    summary = metallb.secrets_summary(two)
    assert "lb/tor-a-md5, metallb-system/metallb-bgp-tor-b" in summary
    assert "do NOT contain" in summary and "kubernetes.io/basic-auth" in summary
    assert metallb.secrets_summary([]) == ""


def test_password_value_never_reaches_the_result():
    secret = "s3cr3t-Value-42"
    result = bgp(dict(PEER, password=secret))
    assert secret not in json.dumps(result)
    assert codes(result) == ["metallb_password_secret_required"]
    assert codes(result, "error") == []
    assert result["resources"][1]["spec"]["passwordSecret"] == {"name": "metallb-bgp-tor-a",
                                                                "namespace": "metallb-system"}
    assert "password" not in result["resources"][1]["spec"]


@pytest.mark.parametrize("name", ["Bad_Name", "x" * 254])
def test_bad_password_secret_name(name):
    assert codes(bgp(dict(PEER, password_secret=name))) == ["metallb_password_secret_invalid"]


def test_configmap_format_cannot_carry_a_password():
    secret = "s3cr3t-Value-42"
    result = bgp(dict(PEER, password=secret), format="configmap")
    assert codes(result) == ["metallb_password_unsupported"]
    assert secret not in json.dumps(result)
    assert codes(bgp(PEER, format="configmap")) == []


# ---------------------------------------------------------------------------
# Orphan guard
# ---------------------------------------------------------------------------

def test_assigned_ip_still_in_a_pool_is_fine():
    result = run(compute_network=NETWORK, assigned=[{"namespace": "shop", "name": "web", "ip": "192.168.10.105"}])
    assert result["findings"] == [] and result["orphaned"] == []


def test_assigned_ip_outside_every_pool_is_orphaned_and_refused():
    result = run(compute_network=NETWORK, assigned=[{"namespace": "shop", "name": "web", "ip": "192.168.10.105"},
                                                    {"namespace": "shop", "name": "db", "ip": "192.168.10.130"}])
    assert result["orphaned"] == [{"namespace": "shop", "name": "db", "ip": "192.168.10.130"}]
    assert codes(result, "error") == ["metallb_ips_orphaned"]
    assert result["findings"][0]["field"] == "assigned[1]"
    assert result["resources"] == []


def test_allow_orphaned_ips_makes_it_a_warning_and_renders():
    result = run(compute_network=NETWORK, allow_orphaned_ips=True,
                 assigned=[{"namespace": "shop", "name": "db", "ip": "192.168.10.130"}])
    assert result["orphaned"] == [{"namespace": "shop", "name": "db", "ip": "192.168.10.130"}]
    assert codes(result, "warning") == ["metallb_ips_orphaned"]
    assert codes(result, "error") == []
    assert kinds(result) == ["IPAddressPool", "L2Advertisement"]


def test_avoid_buggy_ips_orphans_an_address_ending_in_255():
    assigned = [{"namespace": "a", "name": "b", "ip": "10.0.0.255"}]
    kept = run(pools=[{"name": "p", "addresses": "10.0.0.0/23"}], assigned=assigned)
    assert kept["orphaned"] == []
    dropped = run(pools=[{"name": "p", "addresses": "10.0.0.0/23", "avoid_buggy_ips": True}], assigned=assigned)
    assert [o["ip"] for o in dropped["orphaned"]] == ["10.0.0.255"]


def test_ipv6_assigned_ip():
    result = run(pools=pools("fd00::/120"), assigned=[{"namespace": "a", "name": "b", "ip": "fd00::1:1"}])
    assert [o["ip"] for o in result["orphaned"]] == ["fd00::1:1"]
    assert run(pools=pools("fd00::/120"), assigned=[{"namespace": "a", "name": "b", "ip": "fd00::1"}])["orphaned"] == []


def test_malformed_assigned_entries():
    assert codes(run(pools=pools("10.0.0.0/30"), assigned=["10.0.0.1"])) == ["metallb_assigned_invalid"]
    assert codes(run(pools=pools("10.0.0.0/30"), assigned=[{"namespace": "a", "name": "b", "ip": "x"}])) == \
        ["invalid_address"]


# ---------------------------------------------------------------------------
# Rendered objects against the real schemas
# ---------------------------------------------------------------------------

FULL_L2 = dict(pools=[{"name": "web", "addresses": "192.168.10.100-192.168.10.109, 192.168.10.112/29"},
                      {"name": "manual", "addresses": ["fd00::/120"], "auto_assign": False, "avoid_buggy_ips": True}],
               l2_interfaces=["eth1", "eth2"], node_selectors=[{"node-role.kubernetes.io/edge": ""}, {"zone": "a"}])
FULL_BGP = dict(pools=[{"name": "announced", "addresses": "10.50.0.0/26"}], protocol="bgp",
                node_selectors={"zone": "a"},
                bgp_peers=[dict(PEER, hold_time=90, password_secret=True),
                           {"name": "tor-b", "peer_address": "fd00::fe", "peer_asn": 4200000000, "my_asn": 64513}])


@crd_schema.requires_upstream
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("options", [FULL_L2, FULL_BGP, {"compute_network": NETWORK}], ids=["l2", "bgp", "default"])
def test_every_custom_resource_matches_the_crd(release, options):
    result = run(**options)
    assert codes(result, "error") == []
    assert result["resources"]
    for obj in result["resources"]:
        crd_schema.validate_custom_resource(obj, release=release)


@crd_schema.requires_upstream
@pytest.mark.parametrize("release", RELEASES)
def test_schema_check_would_catch_a_misspelt_field(release):
    obj = run(**FULL_BGP)["resources"][1]
    obj["spec"]["peerAsn"] = obj["spec"].pop("peerASN")
    with pytest.raises(jsonschema.ValidationError):
        crd_schema.validate_custom_resource(obj, release=release)


def test_l2_advertisement_carries_interfaces_and_selectors():
    advertisement = run(**FULL_L2)["resources"][-1]
    assert advertisement["kind"] == "L2Advertisement"
    assert advertisement["spec"] == {
        "ipAddressPools": ["web", "manual"],
        "interfaces": ["eth1", "eth2"],
        "nodeSelectors": [{"matchLabels": {"node-role.kubernetes.io/edge": ""}}, {"matchLabels": {"zone": "a"}}],
    }


def test_objects_are_labelled_as_managed_by_the_collection():
    for obj in run(**FULL_BGP)["resources"]:
        assert obj["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "edgeops.k8s_network"}


def test_configmap_format_layer2():
    result = run(pools=FULL_L2["pools"], format="configmap")
    assert result["findings"] == []
    (configmap,) = result["resources"]
    kubernetes_validate.validate(configmap, "1.33", strict=True)
    assert (configmap["kind"], configmap["metadata"]["name"], configmap["metadata"]["namespace"]) == \
        ("ConfigMap", "config", "metallb-system")
    config = yaml.safe_load(configmap["data"]["config"])
    assert config == {"address-pools": [
        {"name": "web", "protocol": "layer2", "addresses": ["192.168.10.100-192.168.10.109", "192.168.10.112/29"],
         "auto-assign": True, "avoid-buggy-ips": False},
        {"name": "manual", "protocol": "layer2", "addresses": ["fd00::/120"],
         "auto-assign": False, "avoid-buggy-ips": True},
    ]}


def test_configmap_format_bgp():
    options = dict(FULL_BGP, format="configmap")
    options["bgp_peers"] = [dict(PEER, hold_time="90s")]
    result = run(**options)
    assert result["findings"] == []
    (configmap,) = result["resources"]
    kubernetes_validate.validate(configmap, "1.33", strict=True)
    config = yaml.safe_load(configmap["data"]["config"])
    assert config["peers"] == [{"peer-address": "192.168.10.1", "peer-asn": 64512, "my-asn": 64513,
                                "hold-time": "1m30s", "node-selectors": [{"match-labels": {"zone": "a"}}]}]
    assert config["address-pools"][0]["protocol"] == "bgp"
    # MetalLB 0.12 parses this strictly: only keys it knows may appear.
    known_pool = {"name", "protocol", "addresses", "auto-assign", "avoid-buggy-ips", "bgp-advertisements"}
    known_peer = {"peer-address", "peer-asn", "my-asn", "peer-port", "source-address", "hold-time", "keepalive-time",
                  "router-id", "password", "bfd-profile", "ebgp-multihop", "node-selectors"}
    assert set(config) <= {"peers", "bgp-communities", "bfd-profiles", "address-pools"}
    assert all(set(pool) <= known_pool for pool in config["address-pools"])
    assert all(set(peer) <= known_peer for peer in config["peers"])


def test_basic_auth_secret_shape_is_a_valid_secret():
    secret = metallb.basic_auth_secret(metallb.password_secret_name("tor-a"), "metallb-system", "pw")
    kubernetes_validate.validate(secret, "1.33", strict=True)
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert secret["stringData"] == {"password": "pw"}
    assert secret["metadata"]["name"] == "metallb-bgp-tor-a"


def test_secret_with_a_misspelt_field_fails_validation():
    secret = metallb.basic_auth_secret("x", "metallb-system", "pw")
    secret["stringdata"] = secret.pop("stringData")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(secret, "1.33", strict=True)


def test_large_pool_costs_nothing():
    result = run(pools=pools("10.0.0.0/8", "11.0.0.0/8"),
                 assigned=[{"namespace": "a", "name": str(i), "ip": "10.%d.0.1" % i} for i in range(200)])
    assert result["findings"] == [] and result["orphaned"] == []
