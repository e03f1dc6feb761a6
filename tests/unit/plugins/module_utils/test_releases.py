"""Release pins, bundle names, image lists and the bundle's own files (module_utils/releases.py)."""

import hashlib

import pytest

from ansible_collections.edgeops.k8s_network.plugins.module_utils import releases

TABLE = {"v1.0.0": {"files": {"a.yaml": "a" * 64, "b.yaml": "b" * 64},
                    "images": {"b.yaml": ["quay.io/x/deployed:v1.0.0"]}}}


def calico(version="v1.0.0", **extra):
    release = {"component": "calico", "version": version, "base_url": "https://example.invalid/%s" % version,
               "files": [{"name": "a.yaml", "variable": "calico_a_sha256"},
                         {"name": "b.yaml", "variable": "calico_b_sha256"}],
               "table": TABLE}
    release.update(extra)
    return release


def test_a_listed_version_is_pinned_by_the_table():
    entries, findings = releases.plan([calico()])
    assert findings == []
    assert [(e["name"], e["sha256"], e["pin"]) for e in entries] == [
        ("a.yaml", "a" * 64, "table"), ("b.yaml", "b" * 64, "table")]
    assert entries[0]["url"] == "https://example.invalid/v1.0.0/a.yaml"
    assert [e["bundle_name"] for e in entries] == ["10-calico-a.yaml", "11-calico-b.yaml"]


def test_the_operators_checksum_wins_over_the_table():
    release = calico()
    release["files"][1]["sha256"] = "C" * 64
    entries, findings = releases.plan([release])
    assert findings == []
    assert [(e["sha256"], e["pin"]) for e in entries] == [("a" * 64, "table"), ("c" * 64, "operator")]


def test_an_unlisted_version_without_checksum_is_refused_naming_everything():
    release = calico("v9.9.9")
    release["files"][0]["sha256"] = "d" * 64  # one file pinned by the operator, one not
    _entries, findings = releases.plan([release])
    assert [(f["code"], f["field"]) for f in findings] == [("manifest_not_pinned", "calico_b_sha256")]
    message = findings[0]["message"]
    for part in ("v9.9.9", "b.yaml", "https://example.invalid/v9.9.9/b.yaml", "calico_b_sha256", "v1.0.0"):
        assert part in message


def test_a_malformed_checksum_is_refused():
    release = calico()
    release["files"][0]["sha256"] = "not-a-sha"
    _entries, findings = releases.plan([release])
    assert [f["code"] for f in findings] == ["manifest_not_pinned"]
    assert "'not-a-sha' is not a sha256" in findings[0]["message"]


def test_a_component_not_installed_needs_no_pin():
    entries, findings = releases.plan([calico("v9.9.9", install=False)])
    assert (entries, findings) == ([], [])


def test_a_file_url_overrides_the_base_url():
    release = {"component": "metallb", "version": "v0.16.1", "table": {},
               "files": [{"name": "metallb-native.yaml", "sha256": "e" * 64, "url": "https://mirror.invalid/m.yaml"}]}
    entries, _findings = releases.plan([release])
    assert entries[0]["url"] == "https://mirror.invalid/m.yaml"
    assert entries[0]["bundle_name"] == "30-metallb-native.yaml"


def test_check_content_accepts_the_pinned_bytes_only():
    data = b"kind: Namespace\n"
    entry = {"sha256": hashlib.sha256(data).hexdigest(), "variable": "v", "component": "metallb",
             "version": "v1", "name": "m.yaml", "pin": "table"}
    assert releases.check_content(entry, data, "/x/m.yaml") is None
    problem = releases.check_content(entry, data + b"# changed\n", "/x/m.yaml")
    assert problem["code"] == "manifest_checksum_mismatch"
    assert problem["field"] == "v"
    assert entry["sha256"] in problem["message"] and "/x/m.yaml" in problem["message"]


@pytest.mark.parametrize("required,severity", [(True, "error"), (False, "warning")])
def test_a_missing_file_names_url_and_sha256(required, severity):
    entries, _findings = releases.plan([calico()])
    missing = releases.missing_finding(entries[0], "offline", required)
    assert (missing["code"], missing["severity"]) == ("manifest_unavailable", severity)
    assert entries[0]["url"] in missing["message"] and "a" * 64 in missing["message"]


@pytest.mark.parametrize("component,index,name,expected", [
    ("calico", 0, "operator-crds.yaml", "10-calico-operator-crds.yaml"),
    ("calico", 1, "tigera-operator.yaml", "11-tigera-operator.yaml"),
    ("calico", 0, "calico.yaml", "10-calico.yaml"),
    ("metallb", 0, "metallb-native.yaml", "30-metallb-native.yaml"),
])
def test_bundle_names_come_before_the_configuration(component, index, name, expected):
    assert releases.bundle_name(component, index, name) == expected


def test_release_files_are_told_from_the_sites_own():
    assert releases.is_release_file("11-tigera-operator.yaml")
    assert releases.is_release_file("30-metallb-native.yaml")
    assert not releases.is_release_file("20-calico.yaml")
    assert not releases.is_release_file("90-verify.yaml")
    assert not releases.is_release_file("README.md")
    assert releases.bundle_files(["README.md", "90-v.yaml", "10-a.yaml", "images.txt", "kustomization.yaml"]) == [
        "10-a.yaml", "90-v.yaml"]


def test_images_of_every_pod_template_once():
    objects = [
        {"kind": "DaemonSet", "spec": {"template": {"spec": {
            "initContainers": [{"name": "cni", "image": "quay.io/calico/cni:v1"}],
            "containers": [{"name": "node", "image": "quay.io/calico/node:v1"}]}}}},
        {"kind": "Deployment", "spec": {"template": {"spec": {
            "containers": [{"name": "node", "image": "quay.io/calico/node:v1"}]}}}},
        {"kind": "ConfigMap", "data": {"image": "not-a-container"}},
    ]
    assert releases.images_in(objects) == ["quay.io/calico/cni:v1", "quay.io/calico/node:v1"]


def test_table_images_come_with_the_files_installed():
    assert releases.table_images(calico()) == ["quay.io/x/deployed:v1.0.0"]
    only_a = calico(files=[{"name": "a.yaml"}])
    assert releases.table_images(only_a) == []


def test_kustomization_lists_files_in_order():
    text = releases.kustomization_text(["10-a.yaml", "20-b.yaml"])
    assert text.endswith("kind: Kustomization\nresources:\n  - 10-a.yaml\n  - 20-b.yaml\n")


def test_readme_and_summary_name_what_is_missing():
    entries, _findings = releases.plan([calico()])
    text = releases.readme_text(["20-calico.yaml"], entries, entries[1:], images_incomplete=True)
    assert "## MISSING" in text
    assert "`11-calico-b.yaml`: https://example.invalid/v1.0.0/b.yaml (sha256 `%s`)" % ("b" * 64) in text
    assert releases.INSTALL_COMMAND in text
    complete = releases.readme_text(["10-calico-a.yaml"], entries[:1], [])
    assert "MISSING" not in complete
    lines = releases.summary_lines("/b", ["20-calico.yaml"], [{"file": "11-calico-b.yaml", "url": "u", "sha256": "s"}])
    assert lines[-1] == "11-calico-b.yaml: u (sha256 s)"
    assert "MISSING" in lines[-2]


def test_a_namespace_that_says_only_its_name_declares_the_servers_name_label():
    bare = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "calico-system"}}
    empty = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "e", "labels": {}}, "spec": {}}
    labelled = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "m", "labels": {"a": "b"}}}
    finalized = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "f"},
                 "spec": {"finalizers": ["kubernetes"]}}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "s", "namespace": "x"}}
    objects = [bare, empty, labelled, finalized, account, None]
    result, changed = releases.declare_default_fields(objects)
    assert changed is True
    assert [((o or {}).get("metadata") or {}).get("labels") for o in result] == [
        {"kubernetes.io/metadata.name": "calico-system"}, {"kubernetes.io/metadata.name": "e"},
        {"a": "b"}, None, None, None]
    assert bare == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "calico-system"}}  # not changed
    assert releases.declare_default_fields([labelled, account]) == ([labelled, account], False)


def test_a_secret_that_says_only_its_name_declares_the_servers_default_type():
    # MetalLB's metallb-webhook-cert, which its controller fills: bare, every bring-up moved it.
    bare = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "metallb-webhook-cert", "namespace": "metallb-system"}}
    typed = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t", "namespace": "x"},
             "type": "kubernetes.io/tls"}
    filled = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "d", "namespace": "x"}, "data": {"k": "dg=="}}
    result, changed = releases.declare_default_fields([bare, typed, filled])
    assert changed is True
    assert result == [dict(bare, type="Opaque"), typed, filled]
    assert "type" not in bare  # not changed
    assert releases.declare_default_fields([typed, filled]) == ([typed, filled], False)


def test_the_metallb_release_is_applied_with_its_secret_typed(tmp_path):
    path = tmp_path / "metallb-native.yaml"
    path.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: metallb-webhook-cert\n"
                    "  namespace: metallb-system\n---\napiVersion: v1\nkind: ServiceAccount\n"
                    "metadata:\n  name: controller\n  namespace: metallb-system\n")
    objects = releases.applied_objects(str(path))
    assert [obj.get("type") for obj in objects] == ["Opaque", None]
    plain = tmp_path / "plain.yaml"
    plain.write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\n")
    assert releases.applied_objects(str(plain)) is None


def test_what_an_applied_object_gives_its_field_manager():
    assert releases.owns_no_field({"apiVersion": "v1", "kind": "ServiceAccount",
                                   "metadata": {"name": "s", "namespace": "x", "labels": {}}})
    assert releases.owns_no_field({"kind": "Namespace", "metadata": {"name": "n"}, "status": {"phase": "Active"}})
    assert not releases.owns_no_field({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": ""}})
    assert not releases.owns_no_field({"kind": "Namespace", "metadata": {"name": "n", "annotations": {"a": "b"}}})
