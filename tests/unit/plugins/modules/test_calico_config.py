"""calico_config as Ansible runs it: options in, JSON result out, dest written honestly."""

import json
import os
import sys

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgeops.k8s_network.plugins.modules import calico_config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import crd_schema  # noqa: E402  (tests/unit is not a package)

COMPUTE_NETWORK = {
    "subnet": "192.168.10.0/24",
    "gateway": "192.168.10.1",
    "pod_cidr": "172.27.0.0/16",
    "service_cidr": "172.28.0.0/16",
    "mtu": 1500,
    "encapsulation": "IPIPCrossSubnet",
    "pod_mtu": 1480,
    "block_size": 26,
}

LIVE_OLD = [{
    "apiVersion": "operator.tigera.io/v1", "kind": "Installation", "metadata": {"name": "default"},
    "spec": {"calicoNetwork": {"ipPools": [{"name": "default-ipv4-ippool", "cidr": "10.244.0.0/16", "blockSize": 26,
                                            "encapsulation": "IPIP", "natOutgoing": "Enabled",
                                            "nodeSelector": "all()"}]}},
}]


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            calico_config.main()
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    # Once controller-side code is imported in the same process (other tests load filter
    # plugins), core 2.19 prints module warnings on stderr instead of returning them.
    result["_shown_warnings"] = json.dumps(result.get("warnings", [])) + captured.err
    return result


def codes(result):
    return sorted(f["code"] for f in result["findings"])


def test_renders_the_installation_from_the_check(capsys):
    result = run(capsys, compute_network=COMPUTE_NETWORK)
    assert not result.get("failed")
    assert result["changed"] is False
    assert result["findings"] == []
    (installation,) = result["resources"]
    network = installation["spec"]["calicoNetwork"]
    assert network["ipPools"][0]["cidr"] == "172.27.0.0/16"
    assert network["ipPools"][0]["natOutgoing"] == "Enabled"
    assert network["mtu"] == 1480
    assert network["nodeAddressAutodetectionV4"] == {"cidrs": ["192.168.10.0/24"]}
    assert result["drift"] == [] and result["migration_plan"] == []
    assert result["pool"]["name"] == "default-ipv4-ippool"


@crd_schema.requires_upstream
def test_module_output_validates_against_the_crds(capsys):
    for mode in ("operator", "manifest"):
        result = run(capsys, compute_network=COMPUTE_NETWORK, install_mode=mode,
                     node_address_autodetection={"first_found": True})
        for obj in result["resources"]:
            crd_schema.validate_custom_resource(obj)


def test_manifest_mode_returns_the_env_method(capsys):
    result = run(capsys, install_mode="manifest", pod_cidr="10.244.0.0/16", encapsulation="VXLANCrossSubnet",
                 mtu=1450, node_address_autodetection={"interface": "^eth1$"})
    assert [r["kind"] for r in result["resources"]] == ["IPPool", "FelixConfiguration"]
    assert result["resources"][1]["spec"] == {"vxlanMTU": 1450}
    assert result["ip_autodetection_method"] == "interface=^eth1$"


def test_pool_rule_fails_with_its_code(capsys):
    result = run(capsys, pod_cidr="172.27.0.0/16", block_size=33)
    assert result["failed"] is True
    assert "[calico_block_size_invalid] block_size" in result["msg"]
    assert codes(result) == ["calico_block_size_invalid"]


def test_two_autodetection_methods_fail(capsys):
    result = run(capsys, node_address_autodetection={"interface": "eth1", "cidrs": ["192.168.10.0/24"]})
    assert result["failed"] is True
    assert codes(result) == ["calico_autodetection_conflict"]


def test_unknown_encapsulation_is_refused_by_the_argument_spec(capsys):
    result = run(capsys, encapsulation="GRE")
    assert result["failed"] is True
    assert "encapsulation" in result["msg"]


def test_immutable_change_fails_unless_allowed(capsys):
    refused = run(capsys, live=LIVE_OLD)
    assert refused["failed"] is True
    assert "[calico_immutable_change] pod_cidr" in refused["msg"]
    assert refused["drift"] == [{"field": "pod_cidr", "pool": "default-ipv4-ippool", "live": "10.244.0.0/16",
                                 "desired": "172.27.0.0/16"}]
    assert [s["action"] for s in refused["migration_plan"]] == ["create_pool", "disable_pool", "recycle_pods",
                                                                "delete_pool"]
    allowed = run(capsys, live=LIVE_OLD, allow_migration=True)
    assert not allowed.get("failed")
    assert "[calico_migration_pending]" in allowed["_shown_warnings"]
    assert [f["severity"] for f in allowed["findings"]] == ["warning"]
    assert len(allowed["migration_plan"]) == 4


def test_registered_k8s_info_result_works_as_live(capsys):
    result = run(capsys, live=[{"changed": False, "resources": LIVE_OLD}], allow_migration=True)
    assert [d["live"] for d in result["drift"]] == ["10.244.0.0/16"]


def test_dest_written_once_then_unchanged(capsys, tmp_path):
    dest = tmp_path / "bundle" / "20-calico.yaml"
    first = run(capsys, compute_network=COMPUTE_NETWORK, install_mode="manifest", dest=str(dest))
    assert first["changed"] is True
    assert list(yaml.safe_load_all(dest.read_text())) == first["resources"]
    second = run(capsys, compute_network=COMPUTE_NETWORK, install_mode="manifest", dest=str(dest))
    assert second["changed"] is False
    changed = run(capsys, compute_network=COMPUTE_NETWORK, install_mode="manifest", dest=str(dest), mtu=1400)
    assert changed["changed"] is True
    assert "ipipMTU: 1400" in dest.read_text()


def test_check_mode_writes_nothing_but_reports_the_change(capsys, tmp_path):
    dest = tmp_path / "20-calico.yaml"
    result = run(capsys, compute_network=COMPUTE_NETWORK, dest=str(dest), _ansible_check_mode=True,
                 _ansible_diff=True)
    assert result["changed"] is True
    assert not dest.exists()
    assert result["diff"]["before"] == ""
    assert "kind: Installation" in result["diff"]["after"]


def test_diff_shows_the_change(capsys, tmp_path):
    dest = tmp_path / "20-calico.yaml"
    run(capsys, compute_network=COMPUTE_NETWORK, dest=str(dest))
    result = run(capsys, compute_network=COMPUTE_NETWORK, dest=str(dest), mtu=1400, _ansible_diff=True)
    assert result["changed"] is True
    assert "mtu: 1480" in result["diff"]["before"]
    assert "mtu: 1400" in result["diff"]["after"]


def test_no_diff_key_without_diff_mode(capsys, tmp_path):
    result = run(capsys, compute_network=COMPUTE_NETWORK, dest=str(tmp_path / "x.yaml"))
    assert "diff" not in result


def test_errors_leave_dest_alone(capsys, tmp_path):
    dest = tmp_path / "20-calico.yaml"
    dest.write_text("previous\n")
    result = run(capsys, pod_cidr="169.254.0.0/16", dest=str(dest))
    assert result["failed"] is True
    assert codes(result) == ["calico_link_local_overlap"]
    assert dest.read_text() == "previous\n"
    refused = run(capsys, live=LIVE_OLD, dest=str(dest))
    assert refused["failed"] is True
    assert dest.read_text() == "previous\n"


def test_file_mode_applies(capsys, tmp_path):
    dest = tmp_path / "20-calico.yaml"
    run(capsys, compute_network=COMPUTE_NETWORK, dest=str(dest), mode="0600")
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    again = run(capsys, compute_network=COMPUTE_NETWORK, dest=str(dest), mode="0644")
    assert again["changed"] is True
    assert oct(dest.stat().st_mode & 0o777) == "0o644"


def test_garbage_gives_coded_errors_not_tracebacks(capsys):
    result = run(capsys, pod_cidr="not-a-cidr", live=["junk", 42], compute_network={"mtu": "lots"})
    assert result["failed"] is True
    assert "Traceback" not in json.dumps(result)
    assert codes(result) == ["calico_live_invalid", "calico_live_invalid", "invalid_address"]
