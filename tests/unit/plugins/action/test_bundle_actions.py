"""release_manifests' and site_bundle's action plugins: the module's answers, in the controller's Python.

Each input runs through the module as Ansible runs it on a host and through the action plugin as
the controller runs it: the same result (manifests, missing, images, findings, failure and message,
warnings, changed, diff) and, for site_bundle, the same files. A file that must be downloaded, a
path on another host or become run the module instead.
"""

import json
import os
import sys

import pytest

from ansible_collections.edgeops.k8s_network.plugins.action import release_manifests as manifests_action
from ansible_collections.edgeops.k8s_network.plugins.action import site_bundle as bundle_action
from ansible_collections.edgeops.k8s_network.plugins.modules import release_manifests, site_bundle

from unittest.mock import MagicMock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import two_paths  # noqa: E402  (tests/unit is not a package)
from fake_releases import CALICO, METALLB, OPERATOR, releases, sha  # noqa: E402


@pytest.fixture
def folders(tmp_path):
    calico, metallb = tmp_path / "calico", tmp_path / "metallb"
    calico.mkdir()
    metallb.mkdir()
    (calico / "operator-crds.yaml").write_bytes(CALICO)
    (calico / "tigera-operator.yaml").write_bytes(OPERATOR)
    (metallb / "metallb-native.yaml").write_bytes(METALLB)
    return str(calico), str(metallb)


def both_manifests(capsys, monkeypatch, args, **options):
    module = two_paths.module_result(capsys, monkeypatch, release_manifests, args, **options)
    action = two_paths.action_result(manifests_action, args, "release_manifests", **options)
    module.pop("invocation", None)
    return module, action


def manifest_inputs(tmp_path, folders):
    calico, metallb = folders
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "30-metallb-native.yaml").write_bytes(METALLB)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / ("%s-operator-crds.yaml" % sha(CALICO)[:12])).write_bytes(CALICO)
    return {
        "from their folders": dict(releases=releases(calico, metallb), cache_dir=str(cache)),
        "a file not the pinned one": dict(releases=releases(calico, metallb, metallb_sha="0" * 64), cache_dir=str(cache)),
        "missing, download off, bundle mode": dict(releases=releases(), cache_dir=str(tmp_path / "none"), download=False,
                                                   required=False),
        "missing, download off, apply mode": dict(releases=releases(), cache_dir=str(tmp_path / "none"), download=False),
        "cache and bundle": dict(releases=releases(), cache_dir=str(cache), bundle_dir=str(bundle), download=False,
                                 required=False),
        "not pinned": dict(releases=releases(calico, metallb, calico_version="v9.9.9"), cache_dir=str(cache)),
        "unknown option": dict(releases=releases(calico, metallb), cache=str(cache)),
    }


@pytest.mark.parametrize("name", ["from their folders", "a file not the pinned one", "missing, download off, bundle mode",
                                  "missing, download off, apply mode", "cache and bundle", "not pinned"])
def test_release_manifests_same_answer_both_ways(capsys, monkeypatch, tmp_path, folders, name):
    args = manifest_inputs(tmp_path, folders)[name]
    module, action = both_manifests(capsys, monkeypatch, args)
    assert action == module
    assert "findings" in action and "manifests" in action


def test_release_manifests_unknown_option_same_words(capsys, monkeypatch, tmp_path, folders):
    module, action = both_manifests(capsys, monkeypatch, manifest_inputs(tmp_path, folders)["unknown option"])
    assert module["failed"] and action["failed"]
    assert two_paths.unsupported_message_matches(module["msg"], action["msg"], "release_manifests", "cache")


def test_a_download_runs_the_module(tmp_path):
    args = dict(releases=releases(), cache_dir=str(tmp_path / "none"))
    action = two_paths.plugin(manifests_action, args, "release_manifests")
    action._execute_module = MagicMock(return_value={"ran": "module"})
    assert action.run(task_vars={}) == {"ran": "module"}


@pytest.mark.parametrize("transport, become", [("ssh", False), ("local", True)])
def test_release_manifests_elsewhere_runs_the_module(tmp_path, folders, transport, become):
    args = dict(releases=releases(*folders), cache_dir=str(tmp_path / "cache"))
    action = two_paths.plugin(manifests_action, args, "release_manifests", transport=transport, become=become)
    action._execute_module = MagicMock(return_value={"ran": "module"})
    assert action.run(task_vars={}) == {"ran": "module"}


def entry(tmp_path, component, name, bundle_name, data, present=True):
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return {"component": component, "version": "v1", "name": name, "bundle_name": bundle_name,
            "url": "https://example.invalid/%s" % name, "sha256": sha(data),
            "pin": "table", "variable": "%s_sha256" % component, "path": str(path) if present else None}


SITE_FILES = [
    {"file": "20-calico.yaml", "resources": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "y"}}]},
    {"file": "40-metallb.yaml", "header": "Not the Secrets:\ncreate them first.",
     "resources": [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                    "spec": {"template": {"spec": {"containers": [{"name": "w", "image": "nginx:1.27"}]}}}}]},
]


def test_site_files_are_written_as_bundle_file_writes_them(capsys, monkeypatch, tmp_path):
    from ansible_collections.edgeops.k8s_network.plugins.action import bundle_file as bundle_file_action
    alone = tmp_path / "alone"
    for item in SITE_FILES:
        result = two_paths.action_result(bundle_file_action, dict(dest=str(alone / item["file"]), mode="0644",
                                                                  resources=item["resources"],
                                                                  header=item.get("header")), "bundle_file")
        assert result["changed"] is True
    together = tmp_path / "together"
    result = two_paths.action_result(bundle_action, dict(dest=str(together), mode="0644", site_files=SITE_FILES),
                                     "site_bundle")
    assert result["changed"] is True and result["findings"] == []
    for item in SITE_FILES:
        assert (together / item["file"]).read_bytes() == (alone / item["file"]).read_bytes()
        assert os.stat(str(together / item["file"])).st_mode == os.stat(str(alone / item["file"])).st_mode
    assert result["files"] == ["20-calico.yaml", "40-metallb.yaml"]
    assert (together / "images.txt").read_text() == "nginx:1.27\n"
    again = two_paths.action_result(bundle_action, dict(dest=str(together), mode="0644", site_files=SITE_FILES),
                                    "site_bundle")
    assert again["changed"] is False


def snapshot(folder):
    return dict((name, (folder / name).read_bytes()) for name in sorted(os.listdir(str(folder))))


def bundle_inputs(tmp_path, folder):
    operator = entry(tmp_path, "calico", "tigera-operator.yaml", "11-tigera-operator.yaml", OPERATOR)
    crds = entry(tmp_path, "calico", "operator-crds.yaml", "10-calico-operator-crds.yaml", CALICO, present=False)
    bad = dict(operator, sha256="0" * 64)
    return {
        "release files and a missing one": dict(dest=str(folder), manifests=[crds, operator],
                                                images=["quay.io/calico/typha:v3.32.1"], mode="0644"),
        "a file not the pinned one": dict(dest=str(folder), manifests=[bad], mode="0644"),
        "nothing but the site's files": dict(dest=str(folder), mode="0600"),
        "the site's files given": dict(dest=str(folder), manifests=[operator], mode="0644", site_files=SITE_FILES),
    }


@pytest.mark.parametrize("name", ["release files and a missing one", "a file not the pinned one",
                                  "nothing but the site's files", "the site's files given"])
@pytest.mark.parametrize("check_mode, diff", [(False, False), (True, True), (False, True)])
def test_site_bundle_same_answer_and_files_both_ways(capsys, monkeypatch, tmp_path, name, check_mode, diff):
    folders = {}
    for way in ("module", "action"):
        folder = tmp_path / way
        folder.mkdir()
        (folder / "20-calico.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
        (folder / "12-stale-calico.yaml").write_text("kind: Stale\n")
        folders[way] = folder
    module = two_paths.module_result(capsys, monkeypatch, site_bundle, bundle_inputs(tmp_path, folders["module"])[name],
                                     check_mode=check_mode, diff=diff)
    action = two_paths.action_result(bundle_action, bundle_inputs(tmp_path, folders["action"])[name], "site_bundle",
                                     check_mode=check_mode, diff=diff)
    module.pop("invocation", None)
    module, action = (json.loads(json.dumps(result).replace(str(folders[way]), "<bundle>"))
                      for result, way in ((module, "module"), (action, "action")))
    assert action == module
    assert snapshot(folders["action"]) == snapshot(folders["module"])
    for name_ in os.listdir(str(folders["module"])):
        assert os.stat(str(folders["module"] / name_)).st_mode == os.stat(str(folders["action"] / name_)).st_mode


def test_site_bundle_refuses_an_unsafe_readme_with_its_code(tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    os.mkfifo(str(folder / "README.md"))
    result = two_paths.action_result(bundle_action, dict(dest=str(folder)), "site_bundle")
    assert result["failed"] is True
    assert result["msg"].startswith("1 problem(s): [dest_not_regular_file] dest: %s is a named pipe (FIFO)" % (folder / "README.md"))
