"""coredns_config as Ansible runs it: options in, JSON result out, dest written honestly."""

import io
import json
import os
import stat

import kubernetes_validate
import pytest
from ansible.module_utils.basic import AnsibleModule
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgeops.k8s_network.plugins.module_utils import coredns
from ansible_collections.edgeops.k8s_network.plugins.modules import coredns_config

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "corefiles")
NETWORK = {"cluster_domain": "edge.local", "dns_servers": ["192.168.10.2", "192.168.10.3"],
           "cluster_dns_ip": "172.28.0.10", "service_cidr": "172.28.0.0/16"}


def read(name):
    with io.open(os.path.join(FIXTURES, name), encoding="utf-8", newline="") as handle:
        return handle.read()


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            coredns_config.main()
    return json.loads(capsys.readouterr().out)


def codes(result):
    return sorted({f["code"] for f in result["findings"]})


def test_playbook_needs_no_glue_from_compute_network(capsys):
    result = run(capsys, compute_network=NETWORK)
    assert not result.get("failed") and result["findings"] == []
    assert result["corefile"] == coredns.kubeadm_default("edge.local").replace(
        "forward . /etc/resolv.conf", "forward . 192.168.10.2 192.168.10.3")
    assert result["changed"] is False  # no live Corefile, no dest: nothing to change
    [configmap] = result["resources"]
    assert configmap["data"]["Corefile"] == result["corefile"]
    assert kubernetes_validate.validate(configmap, "1.33", strict=True)


def test_explicit_options_win_over_compute_network(capsys):
    result = run(capsys, compute_network=NETWORK, cluster_domain="cluster.local", forwarders="10.0.0.1,10.0.0.2",
                 namespace="dns", configmap_name="coredns-custom")
    assert "kubernetes cluster.local in-addr.arpa ip6.arpa {" in result["corefile"]
    assert "forward . 10.0.0.1 10.0.0.2 {" in result["corefile"]
    assert result["resources"][0]["metadata"] == {"name": "coredns-custom", "namespace": "dns"}


def test_no_forwarders_anywhere_keeps_the_live_upstreams(capsys):
    result = run(capsys, compute_network={"cluster_domain": "cluster.local", "dns_servers": []},
                 corefile=read("k3s.Corefile"))
    assert result["corefile"] == read("k3s.Corefile")
    assert result["changed"] is False and result["corefile_diff"] == ""


def test_merge_into_live_reports_changed_and_a_diff(capsys):
    live = read("k3s.Corefile")
    result = run(capsys, corefile=live, forwarders=["10.0.0.2"],
                 stub_domains={"site.example": "10.20.0.53, 10.20.0.54"},
                 hosts=[{"ip": "10.20.1.10", "names": ["plc-01.site.example", "plc.site.example"]}],
                 _ansible_diff=True)
    assert result["changed"] is True
    assert "-    forward . /etc/resolv.conf\n+    forward . 10.0.0.2\n" in result["corefile_diff"]
    assert result["diff"]["before"] == live and result["diff"]["after"] == result["corefile"]
    assert ("\nsite.example:53 {\n    errors\n    cache 30\n    # managed by edgeops.k8s_network\n"
            "    hosts /dev/null {\n        10.20.1.10 plc-01.site.example plc.site.example\n        fallthrough\n"
            "    }\n    forward . 10.20.0.53 10.20.0.54\n}\n") in result["corefile"]
    assert "      10.20.1.10 plc-01.site.example plc.site.example\n      ttl 60\n" in result["corefile"]
    again = run(capsys, corefile=result["corefile"], forwarders=["10.0.0.2"],
                stub_domains={"site.example": "10.20.0.53, 10.20.0.54"},
                hosts=[{"ip": "10.20.1.10", "names": ["plc-01.site.example", "plc.site.example"]}])
    assert again["changed"] is False and again["corefile"] == result["corefile"]
    assert "diff" not in again  # only in --diff mode


def test_replace_strategy_drops_the_live_customisations(capsys):
    result = run(capsys, corefile=read("rewrite.Corefile"), strategy="replace")
    assert result["corefile"] == coredns.kubeadm_default()
    assert result["changed"] is True


@pytest.mark.parametrize("args, code", [
    ({"compute_network": dict(NETWORK, dns_servers=["127.0.0.53"])}, "dns_server_loopback"),
    ({"forwarders": ["10.0.%d.1" % i for i in range(16)]}, "forward_too_many_upstreams"),
    ({"corefile": ".:53 {\n    errors\n"}, "corefile_unbalanced_braces"),
    ({"corefile": read("kubeadm-current.Corefile") + ".:53 {\n    whoami\n}\n"}, "corefile_duplicate_server"),
    ({"corefile": read("hosts-inline.Corefile").replace("        fallthrough\n", "")}, "hosts_without_fallthrough"),
    ({"hosts": [{"ip": "not-an-ip", "names": ["a.example"]}]}, "hosts_entry_invalid"),
    ({"compute_network": {"dns_servers": 53}}, "coredns_compute_network_invalid"),
])
def test_errors_fail_with_their_code_and_nothing_rendered(capsys, tmp_path, args, code):
    dest = tmp_path / "coredns.yaml"
    result = run(capsys, dest=str(dest), **args)
    assert result["failed"] is True
    assert code in codes(result)
    assert "[%s]" % code in result["msg"]
    assert "corefile" not in result and "resources" not in result
    assert not dest.exists()


def test_dest_written_once_then_unchanged_and_check_mode_writes_nothing(capsys, tmp_path):
    dest = tmp_path / "bundle" / "50-coredns.yaml"
    checked = run(capsys, compute_network=NETWORK, dest=str(dest), _ansible_check_mode=True)
    assert checked["changed"] is True and not dest.exists()
    first = run(capsys, compute_network=NETWORK, dest=str(dest), mode="0640")
    assert first["changed"] is True and first["dest"] == str(dest)
    assert stat.S_IMODE(os.stat(str(dest)).st_mode) == 0o640
    [obj] = list(yaml.safe_load_all(dest.read_text()))
    assert obj == first["resources"][0]
    assert kubernetes_validate.validate(obj, "1.33", strict=True)
    second = run(capsys, compute_network=NETWORK, dest=str(dest), mode="0640", _ansible_diff=True)
    assert second["changed"] is False
    corefile_diff, file_diff = second["diff"]
    assert file_diff["before"] == file_diff["after"] == dest.read_text()
    assert corefile_diff["after"] == second["corefile"]


def test_dest_changes_when_the_settings_change(capsys, tmp_path):
    dest = tmp_path / "coredns.yaml"
    run(capsys, compute_network=NETWORK, dest=str(dest))
    before = dest.read_text()
    changed = run(capsys, compute_network=NETWORK, forwarders=["10.9.9.9"], dest=str(dest))
    assert changed["changed"] is True and dest.read_text() != before
    assert "forward . 10.9.9.9 {" in dest.read_text()


def test_legacy_corefile_warns_but_renders(capsys, monkeypatch):
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, text: warned.append(text))
    result = run(capsys, corefile=read("kubeadm-1.13.Corefile"), forwarders="10.0.0.2")
    assert not result.get("failed")
    assert codes(result) == ["corefile_legacy_directive"]
    assert any("[corefile_legacy_directive]" in text for text in warned)
    assert "    proxy . 10.0.0.2\n" in result["corefile"]


def test_bundle_base_follows_the_kubernetes_version(capsys, tmp_path):
    dest = tmp_path / "50-coredns.yaml"
    result = run(capsys, kubernetes_version="v1.31.4", forwarders=["10.0.0.2"], dest=str(dest))
    assert "    cache 30\n    loop\n" in result["corefile"] and "disable success" not in result["corefile"]
    written = yaml.safe_load(dest.read_text())
    assert written["data"]["Corefile"] == result["corefile"]
    refused = run(capsys, kubernetes_version="1.19", forwarders=["10.0.0.2"])
    assert refused["failed"] is True
    assert "coredns_kubernetes_version_unsupported" in refused["msg"]


def test_reverse_stub_over_the_pod_cidr_is_refused_from_compute_network(capsys):
    result = run(capsys, compute_network={"pod_cidr": "10.244.0.0/16", "service_cidr": "10.96.0.0/12",
                                          "dns_servers": ["192.168.10.2"]},
                 stub_domains={"10.in-addr.arpa": ["192.168.10.53"]})
    assert result["failed"] is True
    assert [f["code"] for f in result["findings"]] == ["stub_domain_reverse_overlap"]
    assert "pod CIDR 10.244.0.0/16 and the service CIDR 10.96.0.0/12" in result["findings"][0]["message"]


def test_a_given_corefile_is_a_base_not_a_change(capsys, tmp_path):
    """Bundle mode's coredns_corefile runs nowhere: rendering from it changes nothing until dest is written."""
    given = read("k3s.Corefile")
    result = run(capsys, corefile=given, corefile_live=False, forwarders=["10.0.0.2"], _ansible_diff=True)
    assert result["changed"] is False
    assert result["corefile"] != given
    assert result["corefile_diff"].startswith("--- Corefile (given)\n+++ Corefile (rendered)\n")
    assert result["diff"]["before_header"] == "kube-system/coredns Corefile (given)"
    dest = tmp_path / "50-coredns.yaml"
    first = run(capsys, corefile=given, corefile_live=False, forwarders=["10.0.0.2"], dest=str(dest))
    again = run(capsys, corefile=given, corefile_live=False, forwarders=["10.0.0.2"], dest=str(dest))
    assert (first["changed"], again["changed"]) == (True, False)
    # The same text as live is a change, labelled live.
    live = run(capsys, corefile=given, forwarders=["10.0.0.2"], _ansible_diff=True)
    assert live["changed"] is True and live["diff"]["before_header"] == "kube-system/coredns Corefile (live)"
