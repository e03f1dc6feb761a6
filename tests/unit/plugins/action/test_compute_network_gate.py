"""compute_network_gate: a refusal stops the node with its message; a leader joins the group, as group_by puts it.

The module and the action plugin give the same result for the same options; the role's probe step
passes the check the same options as its first check, with what the probe found.
"""

import os
import sys

import pytest
import yaml

from ansible_collections.edgeops.k8s_network.plugins.action import compute_network_gate as gate_action
from ansible_collections.edgeops.k8s_network.plugins.modules import compute_network_gate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_paths  # noqa: E402  (tests/unit is not a package)

ROLE_TASKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "roles", "compute_network",
                          "tasks")

INPUTS = {
    "refusal": (dict(refusal="[cluster_incomplete] k8s_network_cluster: cluster a is a-1, a-2", leader=True),
                {"changed": False, "failed": True, "msg": "[cluster_incomplete] k8s_network_cluster: cluster a is a-1, a-2"}),
    "leader": (dict(leader=True), {"changed": False, "add_group": "k8s_network_cluster_leaders",
                                   "parent_groups": ["all"]}),
    "leader, another group": (dict(leader="yes", group="site leaders"),
                              {"changed": False, "add_group": "site-leaders", "parent_groups": ["all"]}),
    "leader, in a subgroup": (dict(leader=True, subgroup="k8s_network_bundle_leaders"),
                              {"changed": False, "add_group": "k8s_network_bundle_leaders",
                               "parent_groups": ["k8s_network_cluster_leaders"]}),
    "other node, a subgroup given": (dict(leader=False, subgroup="k8s_network_apply_leaders"), {"changed": False}),
    "refusal, a subgroup given": (dict(refusal="[cluster_incomplete] x", leader=True, subgroup="k8s_network_apply_leaders"),
                                  {"changed": False, "failed": True, "msg": "[cluster_incomplete] x"}),
    "other node": (dict(refusal="", leader=False), {"changed": False}),
}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_same_answer_both_ways(capsys, monkeypatch, name):
    args, expected = INPUTS[name]
    module = two_paths.module_result(capsys, monkeypatch, compute_network_gate, args)
    action = two_paths.action_result(gate_action, args, "compute_network_gate")
    module.pop("invocation", None)
    assert action == dict(expected, warnings=[])
    assert module == action


def test_unknown_option_same_words(capsys, monkeypatch):
    module = two_paths.module_result(capsys, monkeypatch, compute_network_gate, dict(leaders=True))
    action = two_paths.action_result(gate_action, dict(leaders=True), "compute_network_gate")
    assert module["failed"] and action["failed"]
    assert two_paths.unsupported_message_matches(module["msg"], action["msg"], "compute_network_gate", "leaders")


def _task(path, name):
    with open(os.path.join(ROLE_TASKS, path)) as handle:
        return [task for task in yaml.safe_load(handle) if task.get("name") == name][0]


def test_the_probed_check_takes_the_first_checks_options():
    first = _task("check.yml", "Check the compute network settings of the site")
    probed = _task("probe.yml", "Report addresses found in use")
    options = dict(probed["edgeops.k8s_network.compute_network_check"])
    assert options.pop("in_use") == "{{ compute_network_probe_result.in_use }}"
    assert options == first["edgeops.k8s_network.compute_network_check"]
    assert probed["register"] == first["register"] == "compute_network_result"
