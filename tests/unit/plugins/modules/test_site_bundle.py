"""site_bundle: the release manifests, images.txt, kustomization.yaml and README.md of a bundle."""

import hashlib
import json
import os
import signal
import sys

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgeops.k8s_network.plugins.modules import site_bundle

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from fake_releases import OPERATOR  # noqa: E402  (tests/unit is not a package)

CALICO = yaml.safe_dump_all([
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "calico-config", "namespace": "kube-system"},
     "data": {"veth_mtu": "0"}},
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "calico-node", "namespace": "kube-system"},
     "spec": {"template": {"spec": {"containers": [{"name": "calico-node", "image": "quay.io/calico/node:v3.32.1",
                                                    "env": [{"name": "CALICO_IPV4POOL_IPIP", "value": "Always"}]}]}}}},
]).encode()
CALICO_RESULT = {"mtu": 1480, "ip_autodetection_method": "cidr=192.168.10.0/24",
                 "pool": {"name": "default-ipv4-ippool", "cidr": "172.27.0.0/16", "block_size": 26,
                          "encapsulation": "IPIPCrossSubnet", "nat_outgoing": True}}


def entry(tmp_path, component, name, bundle_name, data, present=True):
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return {"component": component, "version": "v1", "name": name, "bundle_name": bundle_name,
            "url": "https://example.invalid/%s" % name, "sha256": hashlib.sha256(data).hexdigest(),
            "pin": "table", "variable": "%s_sha256" % component, "path": str(path) if present else None}


def run(capsys, check_mode=False, diff=False, **args):
    args.setdefault("mode", "0644")
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            site_bundle.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def bundle(tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "20-calico.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    return folder


def test_operator_files_verbatim_then_nothing_changes(capsys, tmp_path, bundle):
    manifests = [entry(tmp_path, "calico", "tigera-operator.yaml", "11-tigera-operator.yaml", OPERATOR)]
    first = run(capsys, dest=str(bundle), manifests=manifests, images=["quay.io/calico/typha:v3.32.1"])
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True
    assert (bundle / "11-tigera-operator.yaml").read_bytes() == OPERATOR
    assert sorted(os.listdir(str(bundle))) == ["11-tigera-operator.yaml", "20-calico.yaml", "README.md",
                                               "images.txt", "kustomization.yaml"]
    assert (bundle / "images.txt").read_text() == "quay.io/calico/typha:v3.32.1\nquay.io/tigera/operator:v1.42.3\n"
    assert yaml.safe_load((bundle / "kustomization.yaml").read_text())["resources"] == [
        "11-tigera-operator.yaml", "20-calico.yaml"]
    assert first["missing"] == []
    before = dict((name, (bundle / name).read_bytes()) for name in os.listdir(str(bundle)))
    second = run(capsys, dest=str(bundle), manifests=manifests, images=["quay.io/calico/typha:v3.32.1"])
    assert second["changed"] is False
    assert dict((name, (bundle / name).read_bytes()) for name in os.listdir(str(bundle))) == before


def test_calico_yaml_carries_the_sites_values(capsys, tmp_path, bundle):
    manifests = [entry(tmp_path, "calico", "calico.yaml", "10-calico.yaml", CALICO)]
    result = run(capsys, dest=str(bundle), manifests=manifests, calico=CALICO_RESULT)
    assert not result.get("failed"), result.get("msg")
    config, node = list(yaml.safe_load_all((bundle / "10-calico.yaml").read_text()))
    assert config["data"]["veth_mtu"] == "1480"
    env = dict((e["name"], e["value"]) for e in node["spec"]["template"]["spec"]["containers"][0]["env"])
    assert env["IP_AUTODETECTION_METHOD"] == "cidr=192.168.10.0/24"
    assert (env["CALICO_IPV4POOL_CIDR"], env["CALICO_IPV4POOL_BLOCK_SIZE"], env["CALICO_IPV4POOL_IPIP"]) == (
        "172.27.0.0/16", "26", "CrossSubnet")


def test_missing_files_are_named_and_a_stale_or_wrong_copy_goes(capsys, tmp_path, bundle):
    (bundle / "10-calico-operator-crds.yaml").write_text("an operator install of an earlier render\n")
    (bundle / "30-metallb-native.yaml").write_text("not the pinned file\n")
    manifests = [entry(tmp_path, "calico", "calico.yaml", "10-calico.yaml", CALICO, present=False),
                 entry(tmp_path, "metallb", "metallb-native.yaml", "30-metallb-native.yaml", b"x: 1\n", present=False)]
    result = run(capsys, dest=str(bundle), manifests=manifests, calico=CALICO_RESULT, diff=True)
    assert not result.get("failed"), result.get("msg")
    assert [m["file"] for m in result["missing"]] == ["10-calico.yaml", "30-metallb-native.yaml"]
    assert sorted(os.listdir(str(bundle))) == ["20-calico.yaml", "README.md", "images.txt", "kustomization.yaml"]
    readme = (bundle / "README.md").read_text()
    assert "## MISSING" in readme
    assert "`30-metallb-native.yaml`: https://example.invalid/metallb-native.yaml (sha256 `%s`)" % (
        manifests[1]["sha256"]) in readme
    assert any("MISSING" in line for line in result["summary"])
    assert {"removed\n"} <= set(d["after"] for d in result["diff"])


def test_check_mode_writes_nothing_and_diff_shows_the_version_change(capsys, tmp_path, bundle):
    manifests = [entry(tmp_path, "calico", "tigera-operator.yaml", "11-tigera-operator.yaml", OPERATOR)]
    run(capsys, dest=str(bundle), manifests=manifests)
    newer = OPERATOR.replace(b"v1.42.3", b"v1.42.4")
    manifests = [dict(entry(tmp_path, "calico", "tigera-operator.yaml", "11-tigera-operator.yaml", newer),
                      version="v2")]
    result = run(capsys, check_mode=True, diff=True, dest=str(bundle), manifests=manifests)
    assert result["changed"] is True
    assert (bundle / "11-tigera-operator.yaml").read_bytes() == OPERATOR
    diffs = dict((os.path.basename(d["after_header"]), d) for d in result["diff"])
    assert diffs["11-tigera-operator.yaml"]["after"] == "sha256 %s\n" % hashlib.sha256(newer).hexdigest()
    assert "calico v2" in diffs["README.md"]["after"] and "calico v1" in diffs["README.md"]["before"]
    assert "v1.42.4" in diffs["images.txt"]["after"]


def test_a_file_changed_since_it_was_verified_is_refused(capsys, tmp_path, bundle):
    manifests = [entry(tmp_path, "calico", "tigera-operator.yaml", "11-tigera-operator.yaml", OPERATOR)]
    with open(manifests[0]["path"], "ab") as handle:
        handle.write(b"# changed\n")
    result = run(capsys, dest=str(bundle), manifests=manifests)
    assert result["failed"] is True
    assert result["msg"].startswith("[manifest_checksum_mismatch]")
    assert sorted(os.listdir(str(bundle))) == ["20-calico.yaml"]


@pytest.fixture
def no_hang():
    """Fail instead of blocking for ever if the run opens a FIFO for reading."""
    def _hung(_signum, _frame):
        raise AssertionError("site_bundle blocked on a file it should have refused")
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_a_fifo_among_the_sites_bundle_files_is_refused_not_read(capsys, tmp_path, bundle, no_hang):
    os.mkfifo(str(bundle / "40-extra.yaml"))
    manifests = [entry(tmp_path, "calico", "tigera-operator.yaml", "11-tigera-operator.yaml", OPERATOR)]
    result = run(capsys, dest=str(bundle), manifests=manifests)
    assert result["failed"] is True
    assert [f["code"] for f in result["findings"]] == ["dest_not_regular_file"]
    assert "40-extra.yaml" in result["msg"]
    assert sorted(os.listdir(str(bundle))) == ["20-calico.yaml", "40-extra.yaml"]


def test_a_release_file_replaced_by_a_fifo_is_refused_not_read(capsys, tmp_path, bundle, no_hang):
    manifests = [entry(tmp_path, "calico", "tigera-operator.yaml", "11-tigera-operator.yaml", OPERATOR)]
    os.remove(manifests[0]["path"])
    os.mkfifo(manifests[0]["path"])
    result = run(capsys, dest=str(bundle), manifests=manifests)
    assert result["failed"] is True
    assert result["msg"].startswith("[dest_not_regular_file] calico_sha256: ")
    assert sorted(os.listdir(str(bundle))) == ["20-calico.yaml"]
