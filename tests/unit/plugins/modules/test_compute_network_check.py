"""compute_network_check as Ansible runs it: options in, JSON result out."""

import json

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgeops.k8s_network.plugins.modules import compute_network_check

GOOD = {
    "node_ips": "192.168.10.11-192.168.10.12",
    "external_service_ips": "192.168.10.100-192.168.10.119",
    "subnet": "192.168.10.0/24",
    "gateway": "192.168.10.1",
    "dns_servers": "192.168.10.2",
    "mtu": "1500",
}


def run(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            compute_network_check.main()
    return json.loads(capsys.readouterr().out)


def test_good_site_passes_unchanged(capsys):
    result = run(capsys, GOOD)
    assert not result.get("failed")
    assert result["changed"] is False
    assert result["findings"] == []
    assert result["compute_network"]["cluster_dns_ip"] == "172.28.0.10"
    assert result["compute_network"]["mtu"] == 1500


def test_errors_fail_with_every_code_in_msg(capsys):
    result = run(capsys, dict(GOOD, dns_servers="127.0.0.53", pod_cidr="10.233.0.0/16",
                              service_cidr="10.233.0.0/18", field_prefix="compute_network_"))
    assert result["failed"] is True
    assert "[dns_server_loopback] compute_network_dns_servers" in result["msg"]
    assert "[cidr_overlap] compute_network_pod_cidr" in result["msg"]
    assert {f["code"] for f in result["findings"]} == {"dns_server_loopback", "cidr_overlap"}


def test_fail_on_error_false_returns_findings(capsys):
    result = run(capsys, dict(GOOD, mtu=9000, fail_on_error=False))
    assert not result.get("failed")
    assert [f["code"] for f in result["findings"]] == ["mtu_out_of_range"]


def test_warnings_shown_and_strict_fails(capsys, monkeypatch):
    shown = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, text: shown.append(text))
    result = run(capsys, dict(GOOD, external_service_ips=""))
    assert not result.get("failed")
    assert [text.split()[0] for text in shown] == ["[service_ips_empty]"]
    strict = run(capsys, dict(GOOD, external_service_ips="", strict=True))
    assert strict["failed"] is True
    assert "[service_ips_empty]" in strict["msg"]


def test_check_mode_runs_the_check(capsys):
    result = run(capsys, dict(GOOD, vlan_id=5000, _ansible_check_mode=True))
    assert result["failed"] is True
    assert "[vlan_id_invalid]" in result["msg"]


def test_survey_strings_are_accepted(capsys):
    result = run(capsys, dict(GOOD, node_count="2", node_ips="192.168.10.11, 192.168.10.12, 192.168.10.13",
                              strict="no", profile="kubernetes"))
    assert not result.get("failed"), result.get("msg")
    assert result["compute_network"]["node_ips"]["count"] == 3


def test_wireguard_is_a_setting_beside_the_encapsulation(capsys):
    result = run(capsys, dict(GOOD, encapsulation="VXLANCrossSubnet", wireguard="true"))
    assert not result.get("failed"), result
    network = result["compute_network"]
    assert (network["encapsulation"], network["wireguard"], network["pod_mtu"]) == ("VXLANCrossSubnet", True, 1440)


def test_wireguard_as_an_encapsulation_is_refused_by_the_argument_spec(capsys):
    result = run(capsys, dict(GOOD, encapsulation="WireGuard"))
    assert result["failed"] is True
    assert "encapsulation" in result["msg"] and "WireGuard" in result["msg"]


def test_check_and_calico_accept_the_same_values():
    """Every value one side accepts the other renders: the modules' and the roles' choices agree."""
    import os

    import yaml

    from ansible_collections.edgeops.k8s_network.plugins.modules import calico_config

    check_choices = compute_network_check.ARGUMENT_SPEC["encapsulation"]["choices"]
    assert check_choices == calico_config.ARGUMENT_SPEC["encapsulation"]["choices"]
    for module in (compute_network_check, calico_config):
        assert "choices: [%s]" % ", ".join(check_choices) in module.DOCUMENTATION
    roles = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "roles")
    specs = {}
    for role, option in (("compute_network", "compute_network_encapsulation"), ("calico", "calico_encapsulation")):
        with open(os.path.join(roles, role, "meta", "argument_specs.yml")) as handle:
            specs[role] = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
        assert specs[role][option]["choices"] == check_choices
    assert specs["compute_network"]["compute_network_wireguard"]["type"] == "bool"
    assert specs["calico"]["calico_wireguard"]["type"] == "bool"
