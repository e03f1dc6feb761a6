"""release_manifests: every file of every component at hand and verified, or a coded refusal."""

import io
import json
import os
import sys

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgeops.k8s_network.plugins.modules import release_manifests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from crd_schema import RELEASES, ROOT, requires_releases  # noqa: E402  (tests/unit is not a package)
from fake_releases import CALICO, METALLB, OPERATOR, releases, sha  # noqa: E402


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            release_manifests.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def folders(tmp_path):
    calico, metallb = tmp_path / "calico", tmp_path / "metallb"
    calico.mkdir()
    metallb.mkdir()
    (calico / "operator-crds.yaml").write_bytes(CALICO)
    (calico / "tigera-operator.yaml").write_bytes(OPERATOR)
    (metallb / "metallb-native.yaml").write_bytes(METALLB)
    return str(calico), str(metallb)


@pytest.fixture
def no_network(monkeypatch):
    """Any download attempt fails the test: the folder and cache paths must not need one."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("tried to download")
    monkeypatch.setattr(release_manifests, "fetch_url", refuse)


def test_air_gapped_folders_with_the_tables_pins(capsys, tmp_path, folders, no_network):
    result = run(capsys, releases=releases(*folders), cache_dir=str(tmp_path / "cache"))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert [(m["bundle_name"], m["pin"], m["path"]) for m in result["manifests"]] == [
        ("10-calico-operator-crds.yaml", "table", os.path.join(folders[0], "operator-crds.yaml")),
        ("11-tigera-operator.yaml", "table", os.path.join(folders[0], "tigera-operator.yaml")),
        ("30-metallb-native.yaml", "table", os.path.join(folders[1], "metallb-native.yaml")),
    ]
    assert result["images"] == ["quay.io/calico/typha:v3.32.1"]
    assert not (tmp_path / "cache").exists()


def test_a_corrupted_copy_is_refused(capsys, tmp_path, folders, no_network):
    with open(os.path.join(folders[1], "metallb-native.yaml"), "ab") as handle:
        handle.write(b"# tampered\n")
    result = run(capsys, releases=releases(*folders), cache_dir=str(tmp_path / "cache"))
    assert result["failed"] is True
    assert "[manifest_checksum_mismatch] metallb_manifest_sha256:" in result["msg"]
    assert sha(METALLB) in result["msg"]


def test_an_unlisted_version_is_refused_and_nothing_is_read(capsys, tmp_path, folders, no_network):
    os.remove(os.path.join(folders[0], "operator-crds.yaml"))  # would be a second problem if read
    result = run(capsys, releases=releases(*folders, calico_version="v3.99.0"), cache_dir=str(tmp_path / "c"))
    assert result["failed"] is True
    assert [f["code"] for f in result["findings"]] == ["manifest_not_pinned"] * 2
    assert "v3.99.0 operator-crds.yaml (https://example.invalid/calico/operator-crds.yaml)" in result["msg"]
    assert "set calico_operator_crds_sha256" in result["msg"]


def test_the_operators_pin_wins(capsys, tmp_path, folders, no_network):
    result = run(capsys, releases=releases(*folders, metallb_sha="0" * 64), cache_dir=str(tmp_path / "c"))
    assert result["failed"] is True
    assert [f["code"] for f in result["findings"]] == ["manifest_checksum_mismatch"]
    assert "pin from the operator" in result["msg"]


def test_missing_files_fail_apply_mode_and_are_listed_for_a_bundle(capsys, tmp_path):
    apply = run(capsys, releases=releases(), download=False, cache_dir=str(tmp_path / "c"))
    assert apply["failed"] is True
    assert [f["code"] for f in apply["findings"]] == ["manifest_unavailable"] * 3
    bundle = run(capsys, releases=releases(), download=False, required=False, cache_dir=str(tmp_path / "c"))
    assert not bundle.get("failed")
    assert [m["name"] for m in bundle["missing"]] == ["operator-crds.yaml", "tigera-operator.yaml",
                                                      "metallb-native.yaml"]
    assert all(m["path"] is None for m in bundle["manifests"])


def test_a_pinned_copy_already_in_the_bundle_counts_as_at_hand(capsys, tmp_path, no_network):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "30-metallb-native.yaml").write_bytes(METALLB)
    (bundle / "11-tigera-operator.yaml").write_bytes(OPERATOR + b"# edited by hand\n")
    result = run(capsys, releases=releases(), download=False, required=False, bundle_dir=str(bundle),
                 cache_dir=str(tmp_path / "c"))
    assert not result.get("failed"), result.get("msg")
    assert [m["name"] for m in result["missing"]] == ["operator-crds.yaml", "tigera-operator.yaml"]
    assert result["manifests"][2]["path"] == str(bundle / "30-metallb-native.yaml")


class Served(object):
    def __init__(self, files):
        self.files, self.urls = files, []

    def __call__(self, module, url, timeout=None):
        self.urls.append(url)
        if url not in self.files:
            return None, {"status": -1, "msg": "Connection refused"}
        return io.BytesIO(self.files[url]), {"status": 200}


def test_downloads_are_verified_then_cached(capsys, tmp_path, monkeypatch):
    served = Served({"https://example.invalid/calico/operator-crds.yaml": CALICO,
                     "https://example.invalid/calico/tigera-operator.yaml": OPERATOR + b"# not the release\n",
                     "https://example.invalid/metallb/metallb-native.yaml": METALLB})
    monkeypatch.setattr(release_manifests, "fetch_url", served)
    cache = tmp_path / "cache"
    result = run(capsys, releases=releases(), cache_dir=str(cache))
    assert result["failed"] is True
    assert [f["field"] for f in result["findings"]] == ["calico_tigera_operator_sha256"]
    assert sorted(os.listdir(str(cache))) == [sha(CALICO)[:12] + "-operator-crds.yaml",
                                              sha(METALLB)[:12] + "-metallb-native.yaml"]

    served.files["https://example.invalid/calico/tigera-operator.yaml"] = OPERATOR
    served.urls[:] = []
    second = run(capsys, releases=releases(), cache_dir=str(cache))
    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is True
    assert served.urls == ["https://example.invalid/calico/tigera-operator.yaml"]  # the rest from the cache
    third = run(capsys, releases=releases(), cache_dir=str(cache))
    assert third["changed"] is False


def test_an_unreachable_url_is_named_in_the_finding(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(release_manifests, "fetch_url", Served({}))
    result = run(capsys, releases=releases(), required=False, cache_dir=str(tmp_path / "c"))
    assert not result.get("failed")
    assert len(result["missing"]) == 3
    assert "Connection refused" in result["findings"][0]["message"]


# The real release files (shared/releases) with the collection's own tables, as an air-gapped
# site gives them: every shipped file of every listed version verifies with no operator pin.
def _role_table(role):
    with open(os.path.join(ROOT, "roles", role, "vars", "main.yml")) as handle:
        return yaml.safe_load(handle)["%s_releases" % role]


def _shipped():
    found = []
    for component in ("calico", "metallb"):
        for version, release in sorted(_role_table(component).items()):
            folder = os.path.join(RELEASES, component, version)
            names = [name for name in sorted(release["files"]) if os.path.isfile(os.path.join(folder, name))]
            if names:
                found.append((component, version, folder, names))
    return found


@requires_releases
def test_every_shipped_release_file_verifies_against_the_table(capsys, tmp_path, no_network):
    shipped = _shipped()
    assert len(shipped) >= 3, shipped  # calico v3.32.1, metallb v0.14.9 and v0.16.1
    for component, version, folder, names in shipped:
        release = {"component": component, "version": version, "dir": folder, "table": _role_table(component),
                   "files": [{"name": name} for name in names]}
        result = run(capsys, releases=[release], cache_dir=str(tmp_path / "cache"))
        assert not result.get("failed"), result.get("msg")
        assert [(m["name"], m["pin"]) for m in result["manifests"]] == [(name, "table") for name in names]


def test_a_file_with_a_bare_namespace_comes_with_its_objects_as_applied(capsys, tmp_path, no_network):
    # A Namespace that says nothing but its name would leave the field manager owning no field,
    # and the next identical apply would move its resourceVersion (found on the real API server).
    bare = yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "calico-system"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tigera-operator", "labels": {"name": "x"}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "calico-system"}},
    ]).encode()
    folder = tmp_path / "calico"
    folder.mkdir()
    (folder / "operator-crds.yaml").write_bytes(CALICO)
    (folder / "tigera-operator.yaml").write_bytes(bare)
    release = releases(str(folder))[0]
    release["files"][1]["sha256"] = sha(bare)
    result = run(capsys, releases=[release], cache_dir=str(tmp_path / "cache"))
    assert not result.get("failed"), result.get("msg")
    crds, operator = result["manifests"]
    assert "objects" not in crds  # no Namespace in it: applied from its path, never parsed
    assert operator["path"] == str(folder / "tigera-operator.yaml")
    assert [(o["kind"], o["metadata"].get("labels")) for o in operator["objects"]] == [
        ("Namespace", {"kubernetes.io/metadata.name": "calico-system"}),
        ("Namespace", {"name": "x"}),
        ("ConfigMap", None)]
    assert (folder / "tigera-operator.yaml").read_bytes() == bare  # the verified file is left as it is


@requires_releases
def test_the_shipped_release_files_are_applied_as_they_are_but_metallbs_bare_secret(capsys, tmp_path, no_network):
    for component, version, folder, names in _shipped():
        release = {"component": component, "version": version, "dir": folder, "table": _role_table(component),
                   "files": [{"name": name} for name in names]}
        result = run(capsys, releases=[release], cache_dir=str(tmp_path / "cache"))
        parsed = [m for m in result["manifests"] if "objects" in m]
        if component != "metallb":
            assert parsed == []
            continue
        # MetalLB's webhook cert Secret says only its name; its controller fills it. Declaring the
        # type the server gives it is the one difference from the file (a second bring-up on the
        # bench rewrote the bare Secret: tests/cluster/test_bringup_site.py).
        assert [m["name"] for m in parsed] == ["metallb-native.yaml"]
        with open(parsed[0]["path"], encoding="utf-8") as handle:
            in_file = [obj for obj in yaml.safe_load_all(handle) if obj]
        differing = [(a["kind"], a["metadata"]["name"], b.get("type")) for a, b in zip(in_file, parsed[0]["objects"])
                     if a != b]
        assert len(in_file) == len(parsed[0]["objects"])
        assert differing == [("Secret", "metallb-webhook-cert", "Opaque")]
