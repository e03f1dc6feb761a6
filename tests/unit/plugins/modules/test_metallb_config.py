"""metallb_config as Ansible runs it: options in, JSON result out, dest written honestly."""

import json
import os
import sys

import kubernetes_validate
import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgeops.k8s_network.plugins.modules import metallb_config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import crd_schema  # noqa: E402  (tests/unit is not a package)

NETWORK = {
    "subnet": "192.168.10.0/24",
    "gateway": "192.168.10.1",
    "node_ips": {"ranges": ["192.168.10.11-192.168.10.12"], "cidrs": ["192.168.10.11/32", "192.168.10.12/32"],
                 "count": 2},
    "external_service_ips": {"ranges": ["192.168.10.100-192.168.10.119"],
                             "cidrs": ["192.168.10.100/30", "192.168.10.104/29", "192.168.10.112/29"], "count": 20},
    "pod_cidr": "172.27.0.0/16",
    "service_cidr": "172.28.0.0/16",
    "bgp_peers": [{"peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": 64513}],
}
PASSWORD = "Tcp-Md5-Secret-7731"


@pytest.fixture
def warned(monkeypatch):
    """Texts passed to module.warn; read here, not from the result's `warnings`, which controller-side
    imports made by other tests in the same process can divert."""
    texts = []
    original = AnsibleModule.warn

    def record(self, warning):
        texts.append(warning)
        original(self, warning)

    monkeypatch.setattr(AnsibleModule, "warn", record)
    return texts


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            metallb_config.main()
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.out


def result_of(capsys, **args):
    return run(capsys, **args)[0]


def codes(result):
    return sorted({f["code"] for f in result["findings"]})


def test_playbook_needs_no_glue_from_compute_network(capsys, warned):
    result = result_of(capsys, compute_network=NETWORK)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert [obj["kind"] for obj in result["resources"]] == ["IPAddressPool", "L2Advertisement"]
    assert result["resources"][0]["spec"]["addresses"] == ["192.168.10.100-192.168.10.119"]
    # The peers of the compute network are not silently used for a layer2 setup: a warning says so.
    assert codes(result) == ["metallb_bgp_peers_unused"]
    assert any("[metallb_bgp_peers_unused]" in text for text in warned)


def test_bgp_from_compute_network_peers(capsys):
    result = result_of(capsys, compute_network=NETWORK, protocol="bgp")
    assert not result.get("failed"), result.get("msg")
    assert [obj["kind"] for obj in result["resources"]] == ["IPAddressPool", "BGPPeer", "BGPAdvertisement"]


@crd_schema.requires_upstream
@pytest.mark.parametrize("release", ["metallb/v0.16.1", "metallb/v0.14.9"])
def test_module_output_validates_against_the_crds(capsys, release):
    result = result_of(capsys, protocol="bgp", pools=[{"name": "announced", "addresses": ["10.50.0.0/26"]}],
                       node_selectors={"zone": "a"},
                       bgp_peers=[{"name": "tor-a", "peer_address": "192.168.10.1", "peer_asn": "64512",
                                   "my_asn": 64513, "hold_time": "90s", "password_secret": "tor-a-md5"}])
    assert not result.get("failed"), result.get("msg")
    for obj in result["resources"]:
        crd_schema.validate_custom_resource(obj, release=release)
    assert result["resources"][1]["spec"]["passwordSecret"] == {"name": "tor-a-md5", "namespace": "metallb-system"}
    assert result["password_secrets"][0]["name"] == "tor-a-md5"


def test_the_result_says_which_secrets_the_objects_lack_in_a_sentence_and_in_comments(capsys):
    result = result_of(capsys, protocol="bgp", pools=[{"name": "announced", "addresses": ["10.50.0.0/26"]}],
                       bgp_peers=[{"name": "tor-a", "peer_address": "192.168.10.1", "peer_asn": 64512,
                                   "my_asn": 64513, "password_secret": "tor-a-md5"}])
    assert not result.get("failed"), result.get("msg")
    assert "metallb-system/tor-a-md5, which they do NOT contain" in result["secrets_summary"]
    assert "create secret generic tor-a-md5" in result["secrets_notice"]
    result = result_of(capsys, protocol="bgp", pools=[{"name": "announced", "addresses": ["10.50.0.0/26"]}],
                       bgp_peers=[{"name": "tor-a", "peer_address": "192.168.10.1", "peer_asn": 64512,
                                   "my_asn": 64513}])
    assert result["secrets_summary"] == "" and result["secrets_notice"] == ""


def test_configmap_format_is_a_valid_configmap(capsys):
    result = result_of(capsys, compute_network=NETWORK, format="configmap", namespace="lb")
    assert not result.get("failed"), result.get("msg")
    (configmap,) = result["resources"]
    kubernetes_validate.validate(configmap, "1.33", strict=True)
    assert configmap["metadata"]["namespace"] == "lb"
    assert yaml.safe_load(configmap["data"]["config"])["address-pools"][0]["addresses"] == \
        ["192.168.10.100-192.168.10.119"]


def test_errors_fail_with_codes_and_no_resources(capsys):
    result = result_of(capsys, pools=[{"name": "a", "addresses": "10.0.0.1-10.0.0.10"},
                                      {"name": "a", "addresses": "10.0.0.10-10.0.0.20, 10.1.0.5/24"}])
    assert result["failed"] is True
    for code in ("metallb_pool_name_duplicate", "ranges_overlap", "host_bits_set"):
        assert "[%s]" % code in result["msg"]
    assert result["resources"] == []


def test_password_never_appears_in_output(capsys):
    result, raw = run(capsys, protocol="bgp", pools=[{"name": "announced", "addresses": "10.50.0.0/26"}],
                      bgp_peers=[{"name": "tor-a", "peer_address": "192.168.10.1", "peer_asn": 64512,
                                  "my_asn": 64513, "password": PASSWORD}])
    assert not result.get("failed"), result.get("msg")
    assert PASSWORD not in raw
    assert result["resources"][1]["spec"]["passwordSecret"]["name"] == "metallb-bgp-tor-a"
    assert "metallb_password_secret_required" in codes(result)


def test_password_never_appears_in_output_on_failure_either(capsys):
    result, raw = run(capsys, protocol="bgp", format="configmap",
                      pools=[{"name": "announced", "addresses": "10.50.0.0/26"}],
                      bgp_peers=[{"name": "tor-a", "peer_address": "192.168.10.1", "peer_asn": 64512,
                                  "my_asn": 64513, "password": PASSWORD}])
    assert result["failed"] is True
    assert "[metallb_password_unsupported]" in result["msg"]
    assert PASSWORD not in raw


def test_password_is_declared_no_log():
    peer_options = metallb_config.ARGUMENT_SPEC["bgp_peers"]["options"]
    assert peer_options["password"]["no_log"] is True


def test_orphan_guard_fails_and_allow_flag_lets_it_pass(capsys, warned):
    assigned = [{"namespace": "shop", "name": "web", "ip": "192.168.10.101"},
                {"namespace": "shop", "name": "db", "ip": "192.168.10.140"}]
    refused = result_of(capsys, compute_network=dict(NETWORK, bgp_peers=[]), assigned=assigned)
    assert refused["failed"] is True
    assert "[metallb_ips_orphaned] assigned[1]" in refused["msg"]
    assert refused["orphaned"] == [{"namespace": "shop", "name": "db", "ip": "192.168.10.140"}]
    allowed = result_of(capsys, compute_network=dict(NETWORK, bgp_peers=[]), assigned=assigned,
                        allow_orphaned_ips=True)
    assert not allowed.get("failed")
    assert allowed["orphaned"] == refused["orphaned"]
    assert any("[metallb_ips_orphaned] assigned[1]" in text for text in warned)
    assert allowed["resources"]


def test_dest_written_once_then_unchanged(capsys, tmp_path):
    dest = tmp_path / "bundle" / "40-metallb.yaml"
    first = result_of(capsys, compute_network=dict(NETWORK, bgp_peers=[]), dest=str(dest), _ansible_diff=True)
    assert first["changed"] is True
    assert first["dest"] == str(dest)
    assert list(yaml.safe_load_all(dest.read_text())) == first["resources"]
    assert first["diff"]["before"] == "" and first["diff"]["after"] == dest.read_text()
    second = result_of(capsys, compute_network=dict(NETWORK, bgp_peers=[]), dest=str(dest))
    assert second["changed"] is False
    changed_pool = result_of(capsys, pools=[{"name": "default", "addresses": "192.168.10.100-192.168.10.109"}],
                             dest=str(dest))
    assert changed_pool["changed"] is True
    assert "192.168.10.100-192.168.10.109" in dest.read_text()


def test_dest_file_mode_is_applied(capsys, tmp_path):
    dest = tmp_path / "metallb.yaml"
    result_of(capsys, compute_network=dict(NETWORK, bgp_peers=[]), dest=str(dest), mode="0600")
    assert oct(os.stat(str(dest)).st_mode & 0o777) == "0o600"


def test_check_mode_writes_nothing_but_reports_change(capsys, tmp_path):
    dest = tmp_path / "metallb.yaml"
    result = result_of(capsys, _ansible_check_mode=True, compute_network=dict(NETWORK, bgp_peers=[]), dest=str(dest))
    assert result["changed"] is True
    assert not dest.exists()
    assert result["resources"]


def test_failure_writes_nothing(capsys, tmp_path):
    dest = tmp_path / "metallb.yaml"
    result = result_of(capsys, pools=[{"name": "a", "addresses": "10.0.0.5-10.0.0.1"}], dest=str(dest))
    assert result["failed"] is True
    assert "[range_reversed]" in result["msg"]
    assert not dest.exists()


def test_without_pools_or_network_fails_with_a_code(capsys):
    result = result_of(capsys)
    assert result["failed"] is True
    assert "[metallb_pools_missing]" in result["msg"]


def test_survey_strings_are_accepted(capsys):
    result = result_of(capsys, pools=[{"name": "web", "addresses": "10.0.0.0/30, 10.0.0.8/30",
                                       "auto_assign": "no"}],
                       l2_interfaces="eth1, eth2", allow_orphaned_ips="false")
    assert not result.get("failed"), result.get("msg")
    assert result["resources"][0]["spec"] == {"addresses": ["10.0.0.0/30", "10.0.0.8/30"], "autoAssign": False,
                                              "avoidBuggyIPs": False}
    assert result["resources"][1]["spec"]["interfaces"] == ["eth1", "eth2"]


def test_spec_rejects_a_bad_choice(capsys):
    result = result_of(capsys, compute_network=NETWORK, protocol="arp")
    assert result["failed"] is True
    assert "protocol" in result["msg"]
