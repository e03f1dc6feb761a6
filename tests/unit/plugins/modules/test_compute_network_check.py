"""compute_network_check as Ansible runs it: options in, JSON result out."""

import json

import pytest
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
    monkeypatch.setattr(compute_network_check.AnsibleModule, "warn", lambda self, text: shown.append(text))
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
