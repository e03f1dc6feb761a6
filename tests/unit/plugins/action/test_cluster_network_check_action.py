"""cluster_network_check: the module and its action plugin give the same answers to the same inputs.

The rules themselves are tested in tests/unit/plugins/module_utils/test_cluster_network.py; here
the wrapper: options checked against the spec, errors failing the task, warnings shown as lines,
strict turning them into a failure, nothing reported changed.
"""

import os
import sys

import pytest

from ansible_collections.edgeops.k8s_network.plugins.action import cluster_network_check as action
from ansible_collections.edgeops.k8s_network.plugins.modules import cluster_network_check as module

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "module_utils"))
import two_paths  # noqa: E402  (tests/unit is not a package)
import test_cluster_network as rules  # noqa: E402

BASE = dict(rules.cluster(), compute_network=rules.network(), field_prefix="compute_network_")
INPUTS = {
    "matching cluster": BASE,
    "pod subnet differs": dict(BASE, kubeadm_config=rules.kubeadm_config(pod="10.244.0.0/16")),
    "not kubeadm": dict(BASE, kubeadm_config=[]),
    "not kubeadm, strict": dict(BASE, kubeadm_config=[], strict=True),
    "nothing read": {"compute_network": rules.network()},
    "unknown option": dict(BASE, kubeconfig="/tmp/x"),
    "nodes not a list of objects": dict(BASE, nodes=[1, 2]),
}


def _comparable(result):
    keys = ("failed", "changed", "msg", "findings", "cluster", "cluster_dns_ip", "warnings")
    return dict((key, result.get(key)) for key in keys)


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_action_answers_as_the_module_does(capsys, monkeypatch, name):
    args = INPUTS[name]
    from_module = two_paths.module_result(capsys, monkeypatch, module, args)
    from_action = two_paths.action_result(action, args, "cluster_network_check")
    msg_module, msg_action = from_module.pop("msg", None), from_action.pop("msg", None)
    if name == "unknown option":
        assert two_paths.unsupported_message_matches(msg_module, msg_action, "cluster_network_check", "kubeconfig")
    else:
        assert msg_action == msg_module
    assert _comparable(from_action) == _comparable(from_module)


def test_a_mismatch_fails_the_task_with_its_code_and_both_values():
    result = two_paths.action_result(action, INPUTS["pod subnet differs"], "cluster_network_check")
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == ("1 problem(s): [cluster_network_mismatch] compute_network_pod_cidr: the site has "
                             "172.27.0.0/16; the cluster has 10.244.0.0/16 (kube-system/kubeadm-config "
                             "ClusterConfiguration networking.podSubnet)")


def test_what_was_not_compared_is_a_warning_line_and_strict_stops_on_it():
    loose = two_paths.action_result(action, INPUTS["not kubeadm"], "cluster_network_check")
    assert not loose.get("failed")
    assert [line.split("]")[0] for line in loose["warnings"]] == ["[cluster_network_unknown"]
    strict = two_paths.action_result(action, INPUTS["not kubeadm, strict"], "cluster_network_check")
    assert strict["failed"] is True and "[cluster_network_unknown] kubeadm_config" in strict["msg"]


def test_nothing_read_says_every_part_not_compared_and_uses_the_tenth_address():
    result = two_paths.action_result(action, INPUTS["nothing read"], "cluster_network_check")
    assert not result.get("failed")
    assert len(result["warnings"]) == 4
    assert result["cluster_dns_ip"] == "172.28.0.10"
