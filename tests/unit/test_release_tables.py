"""The version tables of the calico and metallb roles against the real release files.

A checksum in a table that is not the sha256 of the file upstream serves would make every
run of that version fail (or worse, a wrong pin would be trusted), so each is compared with the
real files in shared/releases and with its checksums.yml (see PROVENANCE.md there).
"""

import hashlib
import os

import yaml

from crd_schema import RELEASES, ROOT, release_file, requires_releases


def _table(role, name):
    with open(os.path.join(ROOT, "roles", role, "vars", "main.yml")) as handle:
        return yaml.safe_load(handle)[name]


TABLES = {"calico": _table("calico", "calico_releases"), "metallb": _table("metallb", "metallb_releases")}
PINS = [(component, version, name, sha)
        for component, table in sorted(TABLES.items())
        for version, release in sorted(table.items())
        for name, sha in sorted(release["files"].items())]


def _defaults(role):
    with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) as handle:
        return yaml.safe_load(handle)


def test_default_versions_are_in_the_tables():
    assert _defaults("calico")["calico_version"] in TABLES["calico"]
    assert _defaults("metallb")["metallb_version"] in TABLES["metallb"]
    # Every file an install mode fetches is pinned for every listed version.
    wanted = [item["name"] for mode in _defaults("calico")["calico_manifests"].values() for item in mode]
    for release in TABLES["calico"].values():
        assert set(wanted) <= set(release["files"])
    for release in TABLES["metallb"].values():
        assert _defaults("metallb")["metallb_manifest_name"] in release["files"]


@requires_releases
def test_tables_hold_exactly_the_checksums_of_checksums_yml():
    with open(os.path.join(RELEASES, "checksums.yml")) as handle:
        facts = yaml.safe_load(handle)
    for component, table in TABLES.items():
        assert {v: r["files"] for v, r in table.items()} == facts[component]


@requires_releases
def test_every_pin_of_a_shipped_file_is_its_sha256():
    checked, wrong = [], []
    for component, version, name, sha in PINS:
        path = release_file(component, version, name)
        if not os.path.isfile(path):
            continue  # not shipped: checked against checksums.yml above
        with open(path, "rb") as handle:
            actual = hashlib.sha256(handle.read()).hexdigest()
        checked.append(path)
        if actual != sha:
            wrong.append("%s: table %s, file %s" % (path, sha, actual))
    assert wrong == []
    # PROVENANCE.md lists six files: Calico v3.32.1 (three the roles fetch) and MetalLB native x2.
    assert len(checked) >= 5, checked


@requires_releases
def test_operator_images_of_the_shipped_release_include_what_its_manifest_names():
    with open(release_file("calico", "v3.32.1", "tigera-operator.yaml")) as handle:
        text = handle.read()
    listed = TABLES["calico"]["v3.32.1"]["images"]["tigera-operator.yaml"]
    assert "quay.io/tigera/operator:v1.42.3" in text and "quay.io/tigera/operator:v1.42.3" in listed
    assert all(image.endswith(":v3.32.1") for image in listed if image.startswith("quay.io/calico/"))
