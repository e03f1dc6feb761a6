"""Every variable a role reads is in its argument spec, so ansible-doc -t role shows all of them.

Checked for what the roles read from the user: their defaults, the shared k8s_network_* variables
and the release pins (the calico_*/metallb_* sha256 variables that only appear inside a
default() in the roles' files). README's settings table names only variables that exist and
points to the specs for the rest.
"""

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(os.path.basename(path) for path in glob.glob(os.path.join(ROOT, "roles", "*")))
# Names roles use that are not inputs: the group of cluster leaders the compute_network role
# fills, and the facts the kind_cluster role sets for the roles after it.
PRODUCED = {"compute_network": {"k8s_network_cluster_leaders"},
            "kind_cluster": {"k8s_network_mode", "k8s_network_kubeconfig", "k8s_network_context"},
            # registered by playbooks/bringup.yml: every release verified before the first apply
            "calico": {"k8s_network_releases"}, "metallb": {"k8s_network_releases"}}
READ = re.compile(r"\bk8s_network_[a-z_]+\b|\b(?:calico|metallb)_[a-z_]*sha256\b")


def spec_options(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        return set(yaml.safe_load(handle)["argument_specs"]["main"]["options"])


def role_files(role):
    for path in glob.glob(os.path.join(ROOT, "roles", role, "**", "*"), recursive=True):
        if os.path.isfile(path) and not path.endswith(("argument_specs.yml", "README.md")):
            yield path


@pytest.mark.parametrize("role", ROLES)
def test_defaults_are_in_the_spec(role):
    path = os.path.join(ROOT, "roles", role, "defaults", "main.yml")
    if not os.path.exists(path):
        pytest.skip("role %s has no defaults" % role)
    with open(path) as handle:
        defaults = set(yaml.safe_load(handle) or {})
    assert sorted(defaults - spec_options(role)) == []


@pytest.mark.parametrize("role", ROLES)
def test_shared_variables_and_pins_it_reads_are_in_the_spec(role):
    read = set()
    for path in role_files(role):
        with open(path) as handle:
            read.update(READ.findall(handle.read()))
    assert sorted(read - PRODUCED.get(role, set()) - spec_options(role)) == []


def test_verify_enabled_is_specified_with_its_default():
    with open(os.path.join(ROOT, "roles", "verify", "meta", "argument_specs.yml")) as handle:
        option = yaml.safe_load(handle)["argument_specs"]["main"]["options"]["verify_enabled"]
    assert (option["type"], option["default"]) == ("bool", True)


def test_readme_settings_exist_and_point_to_the_specs():
    with open(os.path.join(ROOT, "README.md")) as handle:
        readme = handle.read()
    assert "ansible-doc -t role edgeops.k8s_network.compute_network" in readme
    spec = spec_options("compute_network")
    named = set()
    for row in re.findall(r"^\| `(compute_network_[a-z_]+)`(?: / `_([a-z_]+)`)?", readme, re.MULTILINE):
        named.add(row[0])
        if row[1]:
            named.add("compute_network_" + row[1])
    assert named and sorted(named - spec) == []
