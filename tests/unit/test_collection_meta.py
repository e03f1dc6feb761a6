# Copyright: (c) 2025, edgeops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's metadata agrees with what is on disk.

galaxy.yml, meta/runtime.yml and requirements.yml are edited by hand while modules come and
go; these tests catch the drift that no other suite sees (a module left out of the action
group, a group entry with no module behind it, a tarball that ships test caches).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FQCN_PREFIX = "edgeops.k8s_network."
ACTION_GROUP = "k8s_network"
# Runs on the edge nodes, not on the controller beside the other modules; a play sets its
# defaults separately, so the group may leave it out (or hold it).
NODE_SIDE_MODULES = {"compute_ip_probe"}
# Folders that the tool chain and the test runs create inside the checkout.
MUST_NOT_SHIP = {
    ".venv", ".build", ".cache", "collections", "tests/output",
    ".pytest_cache", ".hypothesis", ".benchmarks",
}


def _load(relpath):
    with open(os.path.join(ROOT, relpath)) as f:
        return yaml.safe_load(f)


def _python_files(folder):
    path = os.path.join(ROOT, "plugins", folder)
    if not os.path.isdir(path):
        return []
    return sorted(
        name for name in os.listdir(path)
        if name.endswith(".py") and name != "__init__.py"
    )


def _modules_on_disk():
    return {name[:-3] for name in _python_files("modules")}


def _short_name(entry):
    return entry[len(FQCN_PREFIX):] if entry.startswith(FQCN_PREFIX) else entry


def _action_group():
    groups = (_load("meta/runtime.yml") or {}).get("action_groups") or {}
    assert ACTION_GROUP in groups, "meta/runtime.yml has no action group %r" % ACTION_GROUP
    # A group may also hold one dict (metadata such as extend_group): not a module name.
    return {_short_name(e) for e in groups[ACTION_GROUP] if isinstance(e, str)}


def _plugin_files():
    found = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, "plugins")):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            if name.endswith(".py"):
                found.append(os.path.relpath(os.path.join(dirpath, name), ROOT))
    return sorted(found)


def test_galaxy_identity():
    galaxy = _load("galaxy.yml")
    assert galaxy["namespace"] == "edgeops"
    assert galaxy["name"] == "k8s_network"
    assert re.match(r"^\d+\.\d+\.\d+([-+].+)?$", str(galaxy["version"])), galaxy["version"]
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    assert os.path.isfile(os.path.join(ROOT, galaxy["readme"]))


def test_galaxy_build_ignores_local_output():
    ignored = set(_load("galaxy.yml").get("build_ignore") or [])
    assert MUST_NOT_SHIP - ignored == set()


def test_runtime_requires_supported_core():
    assert _load("meta/runtime.yml")["requires_ansible"] == ">=2.16.0"


def test_every_controller_module_is_in_the_action_group():
    missing = _modules_on_disk() - NODE_SIDE_MODULES - _action_group()
    assert missing == set(), "add to meta/runtime.yml action_groups.%s" % ACTION_GROUP


def test_every_action_group_entry_is_a_module():
    absent = _action_group() - _modules_on_disk()
    assert absent == set(), "meta/runtime.yml names modules that plugins/modules lacks"


def test_requirements_yml_matches_galaxy_dependencies():
    galaxy_deps = _load("galaxy.yml").get("dependencies") or {}
    listed = {}
    for entry in _load("requirements.yml")["collections"]:
        if isinstance(entry, str):
            listed[entry] = "*"
        else:
            listed[entry["name"]] = str(entry.get("version", "*"))
    assert "kubernetes.core" in galaxy_deps
    assert {name: str(v) for name, v in galaxy_deps.items()} == listed


@pytest.mark.parametrize("relpath", _plugin_files())
def test_plugin_file_boilerplate(relpath):
    with open(os.path.join(ROOT, relpath)) as f:
        head = f.read(4096)
    assert "GPL-3.0-or-later" in head or "GNU General Public License v3.0+" in head
    assert "from __future__ import absolute_import, division, print_function" in head
    assert "__metaclass__ = type" in head


def _changelog_sections():
    with open(os.path.join(ROOT, "changelogs", "config.yaml")) as handle:
        config = yaml.safe_load(handle)
    return set(name for name, _title in config["sections"]) | {config.get("trivial_section_name", "trivial")}


CHANGELOG_SECTIONS = _changelog_sections()


FRAGMENTS = sorted(name for name in os.listdir(os.path.join(ROOT, "changelogs", "fragments"))
                   if name.endswith((".yml", ".yaml")))


@pytest.mark.parametrize("name", FRAGMENTS)
def test_each_changelog_fragment_is_yaml_with_known_sections_of_text_entries(name):
    # ansible-test's changelog check and ansible-lint refuse a fragment that is not YAML (a ": "
    # inside an unquoted entry); seen here in a second instead of at the end of a CI run.
    with open(os.path.join(ROOT, "changelogs", "fragments", name)) as handle:
        fragment = yaml.safe_load(handle)
    assert isinstance(fragment, dict) and fragment, name
    assert set(fragment) <= CHANGELOG_SECTIONS, (name, sorted(fragment))
    for entries in fragment.values():
        assert isinstance(entries, list) and entries and all(isinstance(entry, str) for entry in entries), name
