"""The compute_network_check action plugin: same answers as the module, no module process.

Each input runs twice, through the module as Ansible would run it on a host and through the
action plugin as the controller runs it; both must report the same findings, network,
failure and warnings.
"""

import os
import sys

import pytest

from ansible_collections.edgeops.k8s_network.plugins.action import compute_network_check as action
from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges
from ansible_collections.edgeops.k8s_network.plugins.modules import compute_network_check as module

from unittest.mock import MagicMock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_paths  # noqa: E402  (tests/unit is not a package)

GOOD = {
    "node_ips": "192.168.10.11-192.168.10.12",
    "external_service_ips": "192.168.10.100-192.168.10.119",
    "subnet": "192.168.10.0/24",
    "gateway": "192.168.10.1",
    "dns_servers": "192.168.10.2, 192.168.10.3",
    "mtu": "1500",
}

INPUTS = {
    "good site": GOOD,
    "errors": dict(GOOD, pod_cidr="10.233.0.0/16", service_cidr="10.233.0.0/18", dns_servers="127.0.0.53",
                   field_prefix="compute_network_"),
    "warning only": dict(GOOD, external_service_ips="192.168.10.100", load_balancer_ips="192.168.10.100"),
    "strict warning": dict(GOOD, external_service_ips="192.168.10.100", load_balancer_ips="192.168.10.100", strict=True),
    "address in use": dict(GOOD, in_use=[{"address": "192.168.10.100", "mac": "02:00:00:00:00:01"}]),
    "errors returned": dict(GOOD, mtu=9000, fail_on_error=False),
    "lists and nodes": dict(GOOD, node_ips=["192.168.10.11", "192.168.10.12-192.168.10.13"], node_count="2",
                            nodes=[{"name": "n1", "interface": "eth1", "address": "192.168.10.11/24", "mtu": 1500},
                                   {"name": "n2", "interface": "eth1", "address": "192.168.10.12/24", "mtu": "1450"}],
                            bgp_peers=[{"peer_address": "192.168.10.1", "peer_asn": "64512", "my_asn": 64513}]),
    "/8 ranges": dict(GOOD, node_ips="10.0.0.0/9", external_service_ips="10.128.0.0/9", subnet="10.0.0.0/8",
                      gateway=None, dns_servers="10.0.0.2", node_count=3),
    "not an int": dict(GOOD, mtu="abc"),
    "bad choice": dict(GOOD, profile="k3s"),
    "unknown option": dict(GOOD, podcidr="10.0.0.0/16"),
    "peer without asn": dict(GOOD, bgp_peers=[{"peer_address": "192.168.10.1", "my_asn": 64513}]),
}


def _module_result(capsys, monkeypatch, args):
    return two_paths.module_result(capsys, monkeypatch, module, args)


def _plugin(args):
    return two_paths.plugin(action, args, "compute_network_check")


def _action_result(args):
    return two_paths.action_result(action, args, "compute_network_check")


def _comparable(result):
    keys = ("failed", "changed", "msg", "findings", "compute_network", "warnings")
    return dict((key, result.get(key)) for key in keys)


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_action_answers_as_the_module_does(capsys, monkeypatch, name):
    args = INPUTS[name]
    from_module = _module_result(capsys, monkeypatch, args)
    from_action = _action_result(args)
    msg_module, msg_action = from_module.pop("msg", None), from_action.pop("msg", None)
    if name == "unknown option":
        assert two_paths.unsupported_message_matches(msg_module, msg_action, "compute_network_check", "podcidr")
    else:
        assert msg_action == msg_module
    assert _comparable(from_action) == _comparable(from_module)


def test_answers_carry_what_the_play_needs():
    good = _action_result(GOOD)
    assert good["changed"] is False and not good.get("failed")
    assert good["compute_network"]["cluster_dns_ip"] == "172.28.0.10"

    refused = _action_result(dict(GOOD, reserved="192.168.10.11"))
    assert refused["failed"] is True
    assert [f["code"] for f in refused["findings"]] == ["reserved_address"]
    assert "compute_network" not in refused

    typed = _action_result(dict(GOOD, mtu="abc"))
    assert typed["failed"] is True and "mtu" in typed["msg"] and "findings" not in typed


def test_warnings_reach_the_play_as_lines():
    result = _action_result(dict(GOOD, external_service_ips="192.168.10.100", load_balancer_ips="192.168.10.100"))
    assert result["warnings"] and all(line.startswith("[") for line in result["warnings"])
    codes = [f["code"] for f in result["findings"]]
    assert len(result["warnings"]) == len(codes)
    assert all("[%s]" % code in line for code, line in zip(codes, result["warnings"]))


def test_controller_without_netaddr_runs_the_module(monkeypatch):
    plugin = _plugin(GOOD)
    plugin._execute_module = MagicMock(return_value={"failed": True, "msg": "Failed to import the required Python library (netaddr)"})
    monkeypatch.setattr(ipranges, "HAS_NETADDR", False)
    result = plugin.run(task_vars={"inventory_hostname": "localhost"})
    assert plugin._execute_module.call_count == 1
    assert result["msg"].startswith("Failed to import")
