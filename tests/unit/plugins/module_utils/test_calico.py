"""Calico's pool rules, renderers, drift and migration plan (DESIGN.md 3.3)."""

import copy
import os
import sys

import jsonschema
import pytest

from ansible_collections.edgeops.k8s_network.plugins.module_utils import calico

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import crd_schema  # noqa: E402  (tests/unit is not a package)


def codes(findings):
    return sorted(f["code"] for f in findings)


def error_codes(findings):
    return sorted(f["code"] for f in findings if f["severity"] == "error")


COMPUTE_NETWORK = {
    "subnet": "192.168.10.0/24",
    "pod_cidr": "172.27.0.0/16",
    "service_cidr": "172.28.0.0/16",
    "mtu": 1500,
    "encapsulation": "IPIPCrossSubnet",
    "pod_mtu": 1480,
    "block_size": 26,
}


# What the operator writes back into each pool; rendered explicitly (ipPools is an atomic list).
OPERATOR_DEFAULTS = {"allowedUses": ["Workload", "Tunnel"], "assignmentMode": "Automatic", "disableBGPExport": False,
                     "disableNewAllocations": False}


def build(**settings):
    settings.setdefault("install_mode", "operator")
    settings.setdefault("nat_outgoing", True)
    return calico.build(settings)


def installation(*pools, **network):
    spec = dict(network, ipPools=list(pools))
    return {"apiVersion": "operator.tigera.io/v1", "kind": "Installation", "metadata": {"name": "default"},
            "spec": {"calicoNetwork": spec}}


def op_pool(name, cidr, block_size=26, encapsulation="IPIP", **extra):
    return dict({"name": name, "cidr": cidr, "blockSize": block_size, "encapsulation": encapsulation,
                 "natOutgoing": "Enabled", "nodeSelector": "all()"}, **extra)


def ip_pool(name, cidr, block_size=26, labels=None, **spec):
    body = dict({"cidr": cidr, "blockSize": block_size, "ipipMode": "Always", "vxlanMode": "Never",
                 "natOutgoing": True, "nodeSelector": "all()"}, **spec)
    if block_size is None:
        del body["blockSize"]
    metadata = {"name": name}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": metadata, "spec": body}


# ---------------------------------------------------------------------------
# Pool rules: each with a failing and a passing case.
# ---------------------------------------------------------------------------

class TestPoolRules:
    @pytest.mark.parametrize("cidr", ["172.27.0.0/16", "10.0.0.0/8", "fd00:10::/48"])
    def test_good_pools_pass(self, cidr):
        network, block_size, findings = calico.validate_pool(cidr)
        assert findings == []
        assert str(network.cidr) == cidr
        assert block_size == (26 if "." in cidr else 122)

    @pytest.mark.parametrize("cidr", ["172.27.0.0", "172.27.0.0/33", "banana/16", "", None])
    def test_not_a_cidr(self, cidr):
        network, _size, findings = calico.validate_pool(cidr)
        assert network is None
        assert codes(findings) == ["invalid_address"]

    def test_host_bits_rejected_like_libcalico(self):
        network, _size, findings = calico.validate_pool("172.27.0.1/16")
        assert network is None
        assert codes(findings) == ["host_bits_set"]
        assert "172.27.0.0/16" in findings[0]["message"]

    @pytest.mark.parametrize("cidr,block_size", [
        ("10.0.0.0/16", 19), ("10.0.0.0/16", 33), ("10.0.0.0/16", 0),
        ("fd00::/104", 115), ("fd00::/104", 129), ("fd00::/104", 26),
    ])
    def test_block_size_out_of_bounds(self, cidr, block_size):
        _network, size, findings = calico.validate_pool(cidr, block_size)
        assert size is None
        assert codes(findings) == ["calico_block_size_invalid"]

    @pytest.mark.parametrize("cidr,block_size", [
        ("10.0.0.0/16", 20), ("10.0.0.0/16", 32), ("fd00::/104", 116), ("fd00::/104", 128),
    ])
    def test_block_size_bounds_inclusive(self, cidr, block_size):
        _network, size, findings = calico.validate_pool(cidr, block_size)
        assert findings == []
        assert size == block_size

    def test_block_size_not_a_number(self):
        assert codes(calico.validate_pool("10.0.0.0/16", "big")[2]) == ["calico_block_size_invalid"]
        assert calico.validate_pool("10.0.0.0/16", "24")[1] == 24

    def test_pool_smaller_than_block(self):
        assert codes(calico.validate_pool("10.0.0.0/27", 26)[2]) == ["calico_pool_smaller_than_block"]
        assert codes(calico.validate_pool("fd00::/123", 122)[2]) == ["calico_pool_smaller_than_block"]

    def test_pool_of_exactly_one_block_passes(self):
        assert calico.validate_pool("10.0.0.0/26", 26)[2] == []

    def test_disabled_pool_may_be_smaller_than_block(self):
        assert calico.validate_pool("10.0.0.0/27", 26, disabled=True)[2] == []

    @pytest.mark.parametrize("cidr", ["169.254.0.0/16", "169.254.128.0/20", "169.0.0.0/8", "fe80::/64", "fe00::/7"])
    def test_link_local_overlap(self, cidr):
        assert codes(calico.validate_pool(cidr, 26 if "." in cidr else 122)[2]) == ["calico_link_local_overlap"]

    @pytest.mark.parametrize("cidr", ["169.253.0.0/16", "169.255.0.0/16", "fec0::/64"])
    def test_next_to_link_local_passes(self, cidr):
        assert calico.validate_pool(cidr, 26 if "." in cidr else 122)[2] == []

    @pytest.mark.parametrize("mode", ["Always", "CrossSubnet"])
    def test_ipip_on_ipv6(self, mode):
        assert codes(calico.validate_pool("fd00::/48", 122, ipip_mode=mode)[2]) == ["calico_ipip_ipv6"]

    def test_vxlan_on_ipv6_passes(self):
        assert calico.validate_pool("fd00::/48", 122, vxlan_mode="Always")[2] == []

    @pytest.mark.parametrize("ipip,vxlan", [("Always", "Always"), ("CrossSubnet", "Always"), ("Always", "CrossSubnet")])
    def test_ipip_and_vxlan_together(self, ipip, vxlan):
        assert codes(calico.validate_pool("10.0.0.0/16", 26, ipip, vxlan)[2]) == ["calico_encapsulation_conflict"]

    @pytest.mark.parametrize("ipip,vxlan", [("Always", "Never"), ("Never", "CrossSubnet"), ("Never", "Never"), ("", None)])
    def test_one_encapsulation_passes(self, ipip, vxlan):
        assert calico.validate_pool("10.0.0.0/16", 26, ipip, vxlan)[2] == []

    def test_unknown_mode(self):
        assert codes(calico.validate_pool("10.0.0.0/16", 26, "Sometimes")[2]) == ["calico_encapsulation_invalid"]

    def test_every_problem_at_once(self):
        findings = calico.validate_pool("fe80::/124", 122, "Always", "Always")[2]
        assert codes(findings) == ["calico_encapsulation_conflict", "calico_ipip_ipv6", "calico_link_local_overlap",
                                   "calico_pool_smaller_than_block"]

    def test_fields_name_the_options(self):
        findings = calico.validate_pool("10.0.0.0/30", 26, fields={"cidr": "pod_cidr"})[2]
        assert findings[0]["field"] == "pod_cidr"


class TestEncapsulationAndMtu:
    @pytest.mark.parametrize("encapsulation,modes", [
        ("IPIP", ("Always", "Never")), ("IPIPCrossSubnet", ("CrossSubnet", "Never")),
        ("VXLAN", ("Never", "Always")), ("VXLANCrossSubnet", ("Never", "CrossSubnet")), ("None", ("Never", "Never")),
    ])
    def test_modes_as_the_operator_maps_them(self, encapsulation, modes):
        assert calico.encapsulation_modes(encapsulation) == modes
        assert calico.validate_encapsulation(encapsulation) == []

    def test_unknown_encapsulation(self):
        assert codes(calico.validate_encapsulation("GRE")) == ["calico_encapsulation_invalid"]
        assert codes(build(encapsulation="WireGuard")["findings"]) == ["calico_encapsulation_invalid"]

    @pytest.mark.parametrize("encapsulation,expected", [
        ("IPIP", 1480), ("IPIPCrossSubnet", 1480), ("VXLAN", 1450), ("VXLANCrossSubnet", 1450), ("None", 1500),
    ])
    def test_pod_mtu(self, encapsulation, expected):
        assert calico.pod_mtu(1500, encapsulation) == expected
        assert calico.pod_mtu(None, encapsulation) is None

    @pytest.mark.parametrize("mtu", [575, 65536, 0])
    def test_mtu_out_of_bounds(self, mtu):
        assert codes(calico.validate_mtu(mtu, None, "IPIP")) == ["calico_mtu_invalid"]

    def test_mtu_within_bounds(self):
        assert calico.validate_mtu(576, None, "IPIP") == []
        assert calico.validate_mtu(9000, None, "VXLAN") == []

    def test_mtu_larger_than_port_allows_warns(self):
        findings = calico.validate_mtu(1460, 1500, "VXLAN")
        assert codes(findings) == ["calico_mtu_too_large"]
        assert findings[0]["severity"] == "warning"
        assert calico.validate_mtu(1450, 1500, "VXLAN") == []
        assert calico.validate_mtu(1500, 1500, "None") == []

    def test_mtu_not_a_number(self):
        assert codes(build(mtu="big")["findings"]) == ["calico_mtu_invalid"]


class TestAutodetection:
    @pytest.mark.parametrize("spec,installation,env", [
        ({"interface": "^eth1$"}, {"interface": "^eth1$"}, "interface=^eth1$"),
        ({"skip_interface": "docker.*"}, {"skipInterface": "docker.*"}, "skip-interface=docker.*"),
        ({"can_reach": "192.168.10.1"}, {"canReach": "192.168.10.1"}, "can-reach=192.168.10.1"),
        ({"first_found": True}, {"firstFound": True}, "first-found"),
        ({"cidrs": ["192.168.10.0/24", "10.1.0.0/16"]}, {"cidrs": ["192.168.10.0/24", "10.1.0.0/16"]},
         "cidr=192.168.10.0/24,10.1.0.0/16"),
        ({"cidrs": "192.168.10.0/24"}, {"cidrs": ["192.168.10.0/24"]}, "cidr=192.168.10.0/24"),
        ({"kubernetes": "NodeInternalIP"}, {"kubernetes": "NodeInternalIP"}, "kubernetes-internal-ip"),
    ])
    def test_one_method(self, spec, installation, env):
        method, findings = calico.validate_autodetection(spec)
        assert findings == []
        assert calico.autodetection_installation(method) == installation
        assert calico.autodetection_env(method) == env

    @pytest.mark.parametrize("spec", [
        {"interface": "eth1", "cidrs": ["192.168.10.0/24"]},
        {"first_found": True, "can_reach": "8.8.8.8"},
        {"kubernetes": "NodeInternalIP", "skip_interface": "lo", "interface": "eth0"},
    ])
    def test_more_than_one_method(self, spec):
        method, findings = calico.validate_autodetection(spec)
        assert method is None
        assert codes(findings) == ["calico_autodetection_conflict"]

    def test_unset_keys_do_not_count(self):
        method, findings = calico.validate_autodetection(
            {"interface": "eth1", "cidrs": None, "first_found": False, "can_reach": ""})
        assert findings == []
        assert method == ("interface", "eth1")
        assert calico.validate_autodetection({}) == (None, [])
        assert calico.validate_autodetection(None) == (None, [])

    @pytest.mark.parametrize("spec,code", [
        ({"cidrs": ["192.168.10.0/33"]}, "invalid_address"),
        ({"kubernetes": "NodeExternalIP"}, "calico_autodetection_invalid"),
        ({"interface": "eth[1"}, "calico_autodetection_invalid"),
        ({"by_magic": True}, "calico_autodetection_invalid"),
        ("interface=eth1", "calico_autodetection_invalid"),
    ])
    def test_bad_method(self, spec, code):
        method, findings = calico.validate_autodetection(spec)
        assert method is None
        assert codes(findings) == [code]


# ---------------------------------------------------------------------------
# Rendering.
# ---------------------------------------------------------------------------

class TestRender:
    def test_operator_installation_from_compute_network(self):
        result = build(compute_network=COMPUTE_NETWORK)
        assert result["findings"] == []
        assert result["resources"] == [{
            "apiVersion": "operator.tigera.io/v1",
            "kind": "Installation",
            "metadata": {"name": "default"},
            "spec": {"calicoNetwork": {
                "ipPools": [dict(OPERATOR_DEFAULTS, name="default-ipv4-ippool", cidr="172.27.0.0/16", blockSize=26,
                                 encapsulation="IPIPCrossSubnet", natOutgoing="Enabled", nodeSelector="all()")],
                "mtu": 1480,
                "nodeAddressAutodetectionV4": {"cidrs": ["192.168.10.0/24"]},
            }},
        }]
        assert result["mtu"] == 1480
        assert result["ip_autodetection_method"] == "cidr=192.168.10.0/24"
        assert result["drift"] == [] and result["migration_plan"] == []

    def test_options_override_compute_network(self):
        result = build(compute_network=COMPUTE_NETWORK, pod_cidr="10.244.0.0/16", block_size=24, mtu=1400,
                       encapsulation="VXLAN", nat_outgoing=False, node_address_autodetection={"interface": "eth1"})
        network = result["resources"][0]["spec"]["calicoNetwork"]
        assert network["ipPools"] == [dict(OPERATOR_DEFAULTS, name="default-ipv4-ippool", cidr="10.244.0.0/16",
                                           blockSize=24, encapsulation="VXLAN", natOutgoing="Disabled",
                                           nodeSelector="all()")]
        assert network["mtu"] == 1400
        assert network["nodeAddressAutodetectionV4"] == {"interface": "eth1"}

    def test_mtu_follows_the_encapsulation_not_the_check_s_pod_mtu(self):
        # compute_network's pod_mtu was derived for IPIP; VXLAN needs 30 bytes more headroom.
        result = build(compute_network=COMPUTE_NETWORK, encapsulation="VXLANCrossSubnet")
        assert result["mtu"] == 1450
        assert result["resources"][0]["spec"]["calicoNetwork"]["mtu"] == 1450

    def test_pod_mtu_used_when_port_mtu_unknown(self):
        result = build(compute_network={"pod_mtu": 1430})
        assert result["mtu"] == 1430

    def test_without_compute_network_mtu_and_autodetection_left_to_calico(self):
        result = build()
        network = result["resources"][0]["spec"]["calicoNetwork"]
        assert set(network) == {"ipPools"}
        assert network["ipPools"][0]["cidr"] == "172.27.0.0/16"
        assert network["ipPools"][0]["encapsulation"] == "IPIPCrossSubnet"
        assert result["mtu"] is None and result["ip_autodetection_method"] is None

    def test_encapsulation_inherited_from_compute_network(self):
        result = build(compute_network=dict(COMPUTE_NETWORK, encapsulation="VXLAN"))
        assert result["pool"]["encapsulation"] == "VXLAN"
        assert result["mtu"] == 1450
        # An unknown value (not one compute_network_check accepts) falls back to the default.
        assert build(compute_network=dict(COMPUTE_NETWORK, encapsulation="GRE"))["pool"]["encapsulation"] \
            == "IPIPCrossSubnet"

    def test_block_size_inherited_from_compute_network(self):
        assert build(compute_network=dict(COMPUTE_NETWORK, block_size=28))["pool"]["block_size"] == 28

    @pytest.mark.parametrize("encapsulation,ipip,vxlan,felix", [
        ("IPIP", "Always", "Never", {"ipipMTU": 1480}),
        ("IPIPCrossSubnet", "CrossSubnet", "Never", {"ipipMTU": 1480}),
        ("VXLAN", "Never", "Always", {"vxlanMTU": 1450}),
        ("VXLANCrossSubnet", "Never", "CrossSubnet", {"vxlanMTU": 1450}),
    ])
    def test_manifest_pool_and_felix(self, encapsulation, ipip, vxlan, felix):
        result = build(install_mode="manifest", compute_network=COMPUTE_NETWORK, encapsulation=encapsulation)
        assert result["findings"] == []
        pool, felix_configuration = result["resources"]
        assert pool == {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
                        "metadata": {"name": "default-ipv4-ippool"},
                        "spec": {"cidr": "172.27.0.0/16", "blockSize": 26, "ipipMode": ipip, "vxlanMode": vxlan,
                                 "natOutgoing": True, "nodeSelector": "all()"}}
        assert felix_configuration == {"apiVersion": "crd.projectcalico.org/v1", "kind": "FelixConfiguration",
                                       "metadata": {"name": "default"}, "spec": felix}
        assert result["ip_autodetection_method"] == "cidr=192.168.10.0/24"

    def test_manifest_without_encapsulation_has_no_tunnel_mtu(self):
        result = build(install_mode="manifest", compute_network=COMPUTE_NETWORK, encapsulation="None")
        assert [r["kind"] for r in result["resources"]] == ["IPPool"]
        assert codes(result["findings"]) == ["calico_mtu_not_applied"]
        assert "set veth_mtu 1500" in result["findings"][0]["message"]
        assert "does not customise calico.yaml" in result["findings"][0]["message"]

    @pytest.mark.parametrize("customised", [{"release_manifest": "/srv/calico.yaml"},
                                            {"release_manifest_customised": True}])
    def test_manifest_without_encapsulation_but_customised_calico_yaml_needs_no_warning(self, customised):
        # The role's apply mode sets veth_mtu in calico.yaml: nothing is left for the operator to do.
        result = build(install_mode="manifest", compute_network=COMPUTE_NETWORK, encapsulation="None", **customised)
        assert result["findings"] == []
        assert result["mtu"] == 1500

    def test_manifest_without_mtu_needs_no_felix_configuration(self):
        result = build(install_mode="manifest", nat_outgoing=False)
        assert result["findings"] == []
        assert [r["kind"] for r in result["resources"]] == ["IPPool"]
        assert result["resources"][0]["spec"]["natOutgoing"] is False

    def test_ipv6_pool(self):
        result = build(pod_cidr="fd00:27::/48", encapsulation="VXLAN", mtu=1430,
                       node_address_autodetection={"cidrs": ["fd00:10::/64"]})
        assert result["findings"] == []
        network = result["resources"][0]["spec"]["calicoNetwork"]
        assert network["ipPools"][0]["name"] == "default-ipv6-ippool"
        assert network["ipPools"][0]["blockSize"] == 122
        assert network["nodeAddressAutodetectionV6"] == {"cidrs": ["fd00:10::/64"]}
        manifest = build(install_mode="manifest", pod_cidr="fd00:27::/48", encapsulation="VXLAN", mtu=1430)
        assert manifest["resources"][1]["spec"] == {"vxlanMTUV6": 1430}

    def test_ipv6_with_ipip_refused(self):
        result = build(pod_cidr="fd00:27::/48", encapsulation="IPIPCrossSubnet")
        assert error_codes(result["findings"]) == ["calico_ipip_ipv6"]

    def test_invalid_pool_renders_nothing(self):
        result = build(pod_cidr="172.27.0.1/16")
        assert codes(result["findings"]) == ["host_bits_set"]
        assert result["resources"] == []

    def test_pod_cidr_overlapping_the_compute_network(self):
        findings = build(compute_network=COMPUTE_NETWORK, pod_cidr="192.168.0.0/16")["findings"]
        assert codes(findings) == ["cidr_overlap"]
        findings = build(compute_network=COMPUTE_NETWORK, pod_cidr="172.28.0.0/17")["findings"]
        assert codes(findings) == ["cidr_overlap"]
        assert build(compute_network=COMPUTE_NETWORK, pod_cidr="172.29.0.0/16")["findings"] == []

    def test_autodetection_conflict_surfaces(self):
        result = build(compute_network=COMPUTE_NETWORK,
                       node_address_autodetection={"interface": "eth1", "first_found": True})
        assert codes(result["findings"]) == ["calico_autodetection_conflict"]

    def test_pool_name_option(self):
        assert build(pool_name="edge-pods")["resources"][0]["spec"]["calicoNetwork"]["ipPools"][0]["name"] \
            == "edge-pods"


class TestWireGuard:
    """WireGuard is Felix's switch beside the pool encapsulation, never an encapsulation of its own."""

    @pytest.mark.parametrize("encapsulation,expected", [
        # Felix takes the smallest MTU of the enabled tunnels: WireGuard's 60 bytes win over IPIP's
        # 20 and VXLAN's 50.
        ("IPIP", 1440), ("IPIPCrossSubnet", 1440), ("VXLAN", 1440), ("VXLANCrossSubnet", 1440), ("None", 1440),
    ])
    def test_pod_mtu_for_the_combination(self, encapsulation, expected):
        assert calico.pod_mtu(1500, encapsulation, wireguard=True) == expected

    def test_ipv6_overheads_as_felix(self):
        assert calico.pod_mtu(1500, "VXLAN", version=6) == 1430
        assert calico.pod_mtu(1500, "VXLAN", wireguard=True, version=6) == 1420
        assert calico.pod_mtu(1500, "None", version=6) == 1500

    def test_operator_mode_renders_the_switch_beside_the_installation(self):
        result = build(compute_network=dict(COMPUTE_NETWORK, wireguard=True), encapsulation="VXLANCrossSubnet")
        assert result["findings"] == []
        assert result["wireguard"] is True
        installation_obj, felix = result["resources"]
        assert installation_obj["kind"] == "Installation"
        assert installation_obj["spec"]["calicoNetwork"]["mtu"] == 1440
        assert installation_obj["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] == "VXLANCrossSubnet"
        assert felix == {"apiVersion": "crd.projectcalico.org/v1", "kind": "FelixConfiguration",
                         "metadata": {"name": "default"}, "spec": {"wireguardEnabled": True}}

    def test_manifest_mode_renders_switch_and_mtus(self):
        result = build(install_mode="manifest", compute_network=COMPUTE_NETWORK, wireguard=True)
        assert result["findings"] == []
        pool, felix = result["resources"]
        assert pool["spec"]["ipipMode"] == "CrossSubnet"
        assert felix["spec"] == {"ipipMTU": 1440, "wireguardEnabled": True, "wireguardMTU": 1440}

    def test_manifest_mode_without_encapsulation_still_gets_wireguard_mtu(self):
        result = build(install_mode="manifest", compute_network=COMPUTE_NETWORK, encapsulation="None", wireguard=True)
        assert result["findings"] == []
        assert result["resources"][1]["spec"] == {"wireguardEnabled": True, "wireguardMTU": 1440}

    def test_ipv6_pool_uses_the_v6_switch(self):
        result = build(install_mode="manifest", pod_cidr="fd00:27::/48", encapsulation="VXLAN", mtu=1420,
                       wireguard=True)
        assert result["findings"] == []
        assert result["resources"][1]["spec"] == {"vxlanMTUV6": 1420, "wireguardEnabledV6": True,
                                                  "wireguardMTUV6": 1420}

    def test_option_beats_compute_network(self):
        result = build(compute_network=dict(COMPUTE_NETWORK, wireguard=True), wireguard=False)
        assert result["wireguard"] is False
        assert [r["kind"] for r in result["resources"]] == ["Installation"]
        assert result["mtu"] == 1480

    def test_mtu_too_large_for_wireguard_is_reported(self):
        findings = build(compute_network=COMPUTE_NETWORK, wireguard=True, mtu=1480)["findings"]
        assert codes(findings) == ["calico_mtu_too_large"]
        assert "IPIPCrossSubnet and WireGuard" in findings[0]["message"]
        assert build(compute_network=COMPUTE_NETWORK, wireguard=True, mtu=1440)["findings"] == []

    def test_the_check_and_the_renderer_agree_on_every_value(self):
        from ansible_collections.edgeops.k8s_network.plugins.module_utils import compute_network
        base = {"node_ips": "192.168.10.11-192.168.10.12", "external_service_ips": "192.168.10.100-192.168.10.119",
                "subnet": "192.168.10.0/24", "mtu": 1500}
        for encapsulation in calico.ENCAPSULATIONS:
            for wireguard in (False, True):
                network, findings = compute_network.check_compute_network(
                    dict(base, encapsulation=encapsulation, wireguard=wireguard))
                assert [f for f in findings if f["severity"] == "error"] == []
                result = build(compute_network=network)
                assert result["findings"] == []
                assert result["pool"]["encapsulation"] == encapsulation
                assert result["wireguard"] is wireguard
                assert result["mtu"] == network["pod_mtu"]


class TestCalicoVersion:
    def test_assignment_mode_only_from_3_30(self):
        pools = build(calico_version="v3.29.4")["resources"][0]["spec"]["calicoNetwork"]["ipPools"]
        assert "assignmentMode" not in pools[0]
        for version in ("v3.30.0", "3.31.7", "v3.32.1"):
            pools = build(calico_version=version)["resources"][0]["spec"]["calicoNetwork"]["ipPools"]
            assert pools[0]["assignmentMode"] == "Automatic"

    def test_migration_plan_objects_follow_the_version(self):
        live = [installation(op_pool("default-ipv4-ippool", "10.244.0.0/16"))]
        result = build(live=live, allow_migration=True, calico_version="v3.29.4")
        objects = [step["object"] for step in result["migration_plan"] if "object" in step]
        assert objects
        for obj in objects:
            for pool in obj["spec"]["calicoNetwork"]["ipPools"]:
                if pool["cidr"] == "172.27.0.0/16":
                    assert "assignmentMode" not in pool

    @pytest.mark.parametrize("value,code", [("v3.28.2", "calico_version_unsupported"),
                                            ("latest", "calico_version_invalid"),
                                            ("3", "calico_version_invalid")])
    def test_refused(self, value, code):
        result = build(calico_version=value)
        assert codes(result["findings"]) == [code]
        assert result["findings"][0]["field"] == "calico_version"
        assert result["resources"] == []


@crd_schema.requires_upstream
class TestUpstreamSchemas:
    @pytest.mark.parametrize("encapsulation", calico.ENCAPSULATIONS)
    @pytest.mark.parametrize("install_mode", ["operator", "manifest"])
    def test_rendered_objects_validate(self, install_mode, encapsulation):
        result = build(install_mode=install_mode, compute_network=COMPUTE_NETWORK, encapsulation=encapsulation,
                       node_address_autodetection={"can_reach": "192.168.10.1"})
        assert result["resources"]
        for obj in result["resources"]:
            crd_schema.validate_custom_resource(obj)

    @pytest.mark.parametrize("method", [{"interface": "eth1"}, {"skip_interface": "lo"}, {"first_found": True},
                                        {"cidrs": ["10.0.0.0/8"]}, {"kubernetes": "NodeInternalIP"}])
    def test_every_autodetection_method_validates(self, method):
        for obj in build(node_address_autodetection=method)["resources"]:
            crd_schema.validate_custom_resource(obj)

    @pytest.mark.parametrize("install_mode", ["operator", "manifest"])
    def test_wireguard_objects_validate(self, install_mode):
        for pod_cidr in ("172.27.0.0/16", "fd00:27::/48"):
            result = build(install_mode=install_mode, pod_cidr=pod_cidr, encapsulation="VXLAN", mtu=1420,
                           wireguard=True)
            assert result["resources"][-1]["kind"] == "FelixConfiguration"
            for obj in result["resources"]:
                crd_schema.validate_custom_resource(obj)

    def test_ipv6_objects_validate(self):
        for mode in ("operator", "manifest"):
            for obj in build(install_mode=mode, pod_cidr="fd00:27::/48", encapsulation="VXLAN", mtu=1430)["resources"]:
                crd_schema.validate_custom_resource(obj)

    def test_the_schema_catches_what_the_renderer_must_not_do(self):
        obj = build()["resources"][0]
        obj["spec"]["calicoNetwork"]["ipPools"][0]["natOutgoing"] = True
        with pytest.raises(jsonschema.ValidationError):
            crd_schema.validate_custom_resource(obj)

    @pytest.mark.parametrize("install_mode", ["operator", "manifest"])
    def test_migration_plan_objects_validate(self, install_mode):
        live = ([installation(op_pool("default-ipv4-ippool", "172.27.0.0/16"))] if install_mode == "operator"
                else [ip_pool("default-ipv4-ippool", "172.27.0.0/16")])
        result = build(install_mode=install_mode, live=live, pod_cidr="172.27.0.0/16", block_size=24,
                       migration_temporary_cidr="10.99.0.0/16", allow_migration=True, mtu=1480)
        objects = [step["object"] for step in result["migration_plan"] if "object" in step]
        assert len(objects) >= 4
        for obj in objects:
            crd_schema.validate_custom_resource(obj)


# ---------------------------------------------------------------------------
# The live cluster: drift and migration.
# ---------------------------------------------------------------------------

class TestDrift:
    def test_same_pool_live_is_no_drift(self):
        live = [installation(op_pool("default-ipv4-ippool", "172.27.0.0/16", encapsulation="IPIP"))]
        result = build(live=live)
        assert result["drift"] == [] and result["migration_plan"] == [] and result["findings"] == []

    def test_live_pool_keeps_its_name(self):
        live = [installation(op_pool("pods-172-27", "172.27.0.0/16"))]
        result = build(live=live)
        assert result["resources"][0]["spec"]["calicoNetwork"]["ipPools"][0]["name"] == "pods-172-27"
        manifest = build(install_mode="manifest", live=[ip_pool("site-pool", "172.27.0.0/16")])
        assert manifest["resources"][0]["metadata"]["name"] == "site-pool"
        assert manifest["findings"] == []

    def test_mutable_changes_are_not_drift(self):
        live = [ip_pool("default-ipv4-ippool", "172.27.0.0/16", ipipMode="Never", vxlanMode="Always",
                        natOutgoing=False)]
        result = build(install_mode="manifest", live=live, encapsulation="IPIP")
        assert result["drift"] == [] and result["findings"] == []
        assert result["resources"][0]["spec"]["ipipMode"] == "Always"

    def test_default_block_size_of_a_live_pool(self):
        result = build(install_mode="manifest", live=[ip_pool("default-ipv4-ippool", "172.27.0.0/16", None)])
        assert result["drift"] == []
        result = build(install_mode="manifest", live=[ip_pool("default-ipv4-ippool", "172.27.0.0/16", None)],
                       block_size=24)
        assert result["drift"] == [{"field": "block_size", "pool": "default-ipv4-ippool", "live": 26, "desired": 24}]

    def test_operator_cidr_change_refused_with_a_plan(self):
        live = [installation(op_pool("default-ipv4-ippool", "10.244.0.0/16"))]
        result = build(live=live)
        assert result["drift"] == [{"field": "pod_cidr", "pool": "default-ipv4-ippool",
                                    "live": "10.244.0.0/16", "desired": "172.27.0.0/16"}]
        assert error_codes(result["findings"]) == ["calico_immutable_change"]
        assert result["findings"][0]["field"] == "pod_cidr"
        plan = result["migration_plan"]
        assert [s["action"] for s in plan] == ["create_pool", "disable_pool", "recycle_pods", "delete_pool"]
        assert [s["step"] for s in plan] == [1, 2, 3, 4]
        pools_at = [[(p["cidr"], p.get("disableNewAllocations", False))
                     for p in s["object"]["spec"]["calicoNetwork"]["ipPools"]] for s in plan if "object" in s]
        assert pools_at == [
            [("10.244.0.0/16", False), ("172.27.0.0/16", False)],
            [("10.244.0.0/16", True), ("172.27.0.0/16", False)],
            [("172.27.0.0/16", False)],
        ]
        assert plan[2]["cidrs"] == ["10.244.0.0/16"]
        # the old name is taken while both pools exist
        new_name = "default-ipv4-ippool-172-27-0-0-16"
        assert plan[0]["pool"] == new_name
        assert plan[-1]["object"] == result["resources"][0]
        assert result["resources"][0]["spec"]["calicoNetwork"]["ipPools"][0]["name"] == new_name

    def test_allow_migration_turns_the_error_into_a_warning(self):
        live = [installation(op_pool("default-ipv4-ippool", "10.244.0.0/16"))]
        result = build(live=live, allow_migration=True)
        assert error_codes(result["findings"]) == []
        assert codes(result["findings"]) == ["calico_migration_pending"]
        assert len(result["migration_plan"]) == 4

    def test_after_the_migration_the_renamed_pool_is_stable(self):
        first = build(live=[installation(op_pool("default-ipv4-ippool", "10.244.0.0/16"))], allow_migration=True)
        done = first["resources"][0]
        again = build(live=[done])
        assert again["drift"] == [] and again["findings"] == []
        assert again["resources"] == [done]

    def test_operator_mirrored_ippools_do_not_double_the_drift(self):
        managed = {"app.kubernetes.io/managed-by": "tigera-operator"}
        live = [installation(op_pool("default-ipv4-ippool", "10.244.0.0/16")),
                ip_pool("default-ipv4-ippool", "10.244.0.0/16", labels=managed)]
        result = build(live=live)
        assert len(result["drift"]) == 1
        assert codes(result["findings"]) == ["calico_immutable_change"]

    def test_operator_without_installation_compares_ippools(self):
        live = [ip_pool("default-ipv4-ippool", "10.244.0.0/16")]
        result = build(live=live)
        assert [d["field"] for d in result["drift"]] == ["pod_cidr"]

    def test_operator_keeps_other_family_and_load_balancer_pools(self):
        v6 = op_pool("default-ipv6-ippool", "fd00:1::/48", 122, "None", natOutgoing="Disabled")
        lb = op_pool("lb", "10.50.0.0/24", 26, "None", allowedUses=["LoadBalancer"])
        live = [installation(v6, op_pool("default-ipv4-ippool", "172.27.0.0/16"), lb)]
        result = build(live=live)
        assert result["drift"] == [] and result["findings"] == []
        pools = result["resources"][0]["spec"]["calicoNetwork"]["ipPools"]
        assert [p["cidr"] for p in pools] == ["fd00:1::/48", "10.50.0.0/24", "172.27.0.0/16"]
        assert pools[0] == v6

    def test_manifest_cidr_change_plan(self):
        old = ip_pool("default-ipv4-ippool", "192.168.0.0/16", natOutgoing=True)
        result = build(install_mode="manifest", live=[old], mtu=1480)
        assert [d["field"] for d in result["drift"]] == ["pod_cidr"]
        plan = result["migration_plan"]
        assert [s["action"] for s in plan] == ["create_pool", "disable_pool", "recycle_pods", "delete_pool"]
        assert plan[0]["object"] == result["resources"][0]
        assert plan[0]["object"]["metadata"]["name"] == "default-ipv4-ippool-172-27-0-0-16"
        disabled = plan[1]["object"]
        assert disabled["metadata"]["name"] == "default-ipv4-ippool"
        assert disabled["spec"] == dict(old["spec"], disabled=True)
        assert plan[3]["delete"] == {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
                                     "name": "default-ipv4-ippool"}

    def test_manifest_plan_resumes_where_the_cluster_is(self):
        old = ip_pool("default-ipv4-ippool", "192.168.0.0/16", disabled=True)
        new = ip_pool("default-ipv4-ippool-172-27-0-0-16", "172.27.0.0/16")
        result = build(install_mode="manifest", live=[old, new], allow_migration=True)
        assert [s["action"] for s in result["migration_plan"]] == ["recycle_pods", "delete_pool"]
        assert result["resources"][0]["metadata"]["name"] == "default-ipv4-ippool-172-27-0-0-16"
        finished = build(install_mode="manifest", live=[new])
        assert finished["drift"] == [] and finished["findings"] == []

    def test_block_size_change_needs_a_temporary_pool(self):
        live = [installation(op_pool("default-ipv4-ippool", "172.27.0.0/16", 26))]
        result = build(live=live, block_size=24)
        assert result["drift"] == [{"field": "block_size", "pool": "default-ipv4-ippool", "live": 26, "desired": 24}]
        assert error_codes(result["findings"]) == ["calico_immutable_change",
                                                   "calico_migration_temporary_cidr_required"]
        assert result["migration_plan"] == []

    def test_block_size_change_through_a_temporary_pool(self):
        live = [installation(op_pool("default-ipv4-ippool", "172.27.0.0/16", 26))]
        result = build(live=live, block_size=24, migration_temporary_cidr="10.99.0.0/16", allow_migration=True)
        assert error_codes(result["findings"]) == []
        plan = result["migration_plan"]
        assert [s["action"] for s in plan] == ["create_pool", "disable_pool", "recycle_pods", "delete_pool",
                                               "create_pool", "disable_pool", "recycle_pods", "delete_pool"]
        states = [[(p["cidr"], p["blockSize"], p.get("disableNewAllocations", False))
                   for p in s["object"]["spec"]["calicoNetwork"]["ipPools"]] for s in plan if "object" in s]
        assert states == [
            [("172.27.0.0/16", 26, False), ("10.99.0.0/16", 24, False)],
            [("172.27.0.0/16", 26, True), ("10.99.0.0/16", 24, False)],
            [("10.99.0.0/16", 24, False)],
            [("10.99.0.0/16", 24, False), ("172.27.0.0/16", 24, False)],
            [("10.99.0.0/16", 24, True), ("172.27.0.0/16", 24, False)],
            [("172.27.0.0/16", 24, False)],
        ]
        # the pool keeps its name: the old one is gone before the new one is created
        assert plan[-1]["object"]["spec"]["calicoNetwork"]["ipPools"][0]["name"] == "default-ipv4-ippool"
        assert plan[-1]["object"] == result["resources"][0]

    def test_manifest_temporary_migration_resumes(self):
        temp = ip_pool("default-ipv4-ippool-migration", "10.99.0.0/16", 24)
        result = build(install_mode="manifest", live=[temp], block_size=24, migration_temporary_cidr="10.99.0.0/16",
                       allow_migration=True)
        assert [s["action"] for s in result["migration_plan"]] == ["create_pool", "disable_pool", "recycle_pods",
                                                                   "delete_pool"]
        assert result["migration_plan"][0]["object"]["spec"]["cidr"] == "172.27.0.0/16"
        assert result["migration_plan"][3]["delete"]["name"] == "default-ipv4-ippool-migration"

    def test_narrowing_the_cidr_also_needs_a_temporary_pool(self):
        live = [ip_pool("default-ipv4-ippool", "172.27.0.0/16")]
        result = build(install_mode="manifest", live=live, pod_cidr="172.27.0.0/17")
        assert "calico_migration_temporary_cidr_required" in error_codes(result["findings"])

    def test_temporary_pool_must_be_free(self):
        live = [ip_pool("default-ipv4-ippool", "172.27.0.0/16")]
        result = build(install_mode="manifest", live=live, block_size=24, migration_temporary_cidr="172.27.0.0/17",
                       allow_migration=True)
        assert "calico_pool_overlap" in error_codes(result["findings"])
        other = [ip_pool("default-ipv4-ippool", "172.27.0.0/16"), ip_pool("lab", "10.99.0.0/16")]
        result = build(install_mode="manifest", live=other, block_size=24, migration_temporary_cidr="10.99.0.0/20",
                       allow_migration=True)
        assert error_codes(result["findings"]) == ["calico_pool_overlap"]
        assert result["findings"][0]["field"] == "migration_temporary_cidr"

    def test_temporary_cidr_checked_by_the_pool_rules(self):
        live = [ip_pool("default-ipv4-ippool", "172.27.0.0/16")]
        result = build(install_mode="manifest", live=live, block_size=24, migration_temporary_cidr="10.99.0.1/16")
        assert "host_bits_set" in codes(result["findings"])
        result = build(install_mode="manifest", live=live, block_size=24, migration_temporary_cidr="fd00::/48")
        assert "calico_migration_temporary_cidr_invalid" in codes(result["findings"])

    def test_overlap_with_an_unmanaged_pool(self):
        live = [ip_pool("lab-pool", "172.27.128.0/17")]
        result = build(install_mode="manifest", live=live)
        assert error_codes(result["findings"]) == ["calico_pool_overlap"]
        assert result["drift"] == []

    def test_unmanaged_pool_beside_ours_warns(self):
        live = [ip_pool("lab-pool", "10.10.0.0/16")]
        result = build(install_mode="manifest", live=live)
        assert codes(result["findings"]) == ["calico_extra_pool"]
        assert result["findings"][0]["severity"] == "warning"
        disabled = [ip_pool("lab-pool", "10.10.0.0/16", disabled=True)]
        assert build(install_mode="manifest", live=disabled)["findings"] == []

    def test_operator_overlap_with_a_pool_outside_the_installation(self):
        live = [installation(op_pool("default-ipv4-ippool", "172.27.0.0/16")), ip_pool("manual", "172.27.200.0/24")]
        assert error_codes(build(live=live)["findings"]) == ["calico_pool_overlap"]

    def test_live_in_every_shape(self):
        pool = ip_pool("default-ipv4-ippool", "10.244.0.0/16")
        shapes = [
            [pool],
            [{"resources": [pool], "changed": False}],
            [{"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPoolList", "items": [pool]}],
            [dict(pool, apiVersion="projectcalico.org/v3")],
        ]
        for live in shapes:
            result = build(install_mode="manifest", live=live)
            assert [d["live"] for d in result["drift"]] == ["10.244.0.0/16"], live

    def test_unreadable_live_objects_warn(self):
        live = ["nonsense", {"kind": "ConfigMap", "metadata": {"name": "x"}},
                {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "bad"},
                 "spec": {"cidr": "nope"}}]
        result = build(install_mode="manifest", live=live)
        assert codes(result["findings"]) == ["calico_live_invalid"] * 3
        assert error_codes(result["findings"]) == []

    def test_other_installations_ignored(self):
        other = installation(op_pool("x", "10.244.0.0/16"))
        other["metadata"]["name"] = "overlay"
        assert build(live=[other])["drift"] == []

    def test_manifest_mode_on_an_operator_cluster_warns(self):
        live = [installation(op_pool("default-ipv4-ippool", "172.27.0.0/16"))]
        result = build(install_mode="manifest", live=live)
        assert codes(result["findings"]) == ["calico_install_mode_mismatch"]

    def test_plan_objects_are_copies(self):
        live = [installation(op_pool("default-ipv4-ippool", "10.244.0.0/16"))]
        before = copy.deepcopy(live)
        build(live=live, allow_migration=True)
        assert live == before
