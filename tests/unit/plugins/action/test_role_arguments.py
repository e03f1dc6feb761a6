"""role_arguments: every role's refused arguments at once, in the words of each role's own check.

The same errors, in the same order, as ansible.builtin.validate_argument_spec gives role by role
against the role's argument spec (what bringup.yml did with a loop and a fail task before).
"""

import os

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.action.validate_argument_spec import ActionModule as ValidateArgumentSpec
from ansible.playbook.play_context import PlayContext
from ansible.template import Templar

from ansible_collections.edgeops.k8s_network.plugins.action import role_arguments

from unittest.mock import MagicMock

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "roles")


def action(cls, args, task_vars):
    task = MagicMock()
    task.args = dict(args)
    task.action = "edgeops.k8s_network.role_arguments"
    task.async_val = 0
    task.check_mode = False
    connection = MagicMock()
    connection._shell.tmpdir = None
    return cls(task=task, connection=connection, play_context=PlayContext(), loader=DataLoader(),
               templar=Templar(loader=DataLoader(), variables=task_vars), shared_loader_obj=None)


def role_by_role(roles, task_vars):
    errors = []
    for role in roles:
        with open(os.path.join(ROLES, role, "meta", "argument_specs.yml")) as handle:
            spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
        result = action(ValidateArgumentSpec, {"argument_spec": spec}, task_vars).run(task_vars=task_vars)
        errors.extend(result.get("argument_errors", []))
    return errors


CASES = {
    "all good": {},
    "one bad": {"metallb_apply_retries": "abc"},
    "bad in several roles": {"metallb_apply_retries": "abc", "verify_web_port": "x", "k8s_network_mode": "nope",
                             "coredns_ready_timeout": "later"},
    "templated": {"verify_web_port": "{{ 'eighty' }}"},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_errors_as_the_roles_own_checks(name):
    roles = ["calico", "metallb", "coredns", "verify"]
    task_vars = dict(CASES[name])
    expected = role_by_role(roles, task_vars)
    result = action(role_arguments.ActionModule, {"roles": roles}, task_vars).run(task_vars=task_vars)
    assert result["argument_errors"] == expected
    if expected:
        assert result["failed"] is True
        assert result["msg"] == "[role_argument_invalid] " + "; ".join(expected)
    else:
        assert not result.get("failed") and result["changed"] is False


def test_only_the_roles_named():
    task_vars = {"verify_web_port": "x"}
    result = action(role_arguments.ActionModule, {"roles": ["calico"]}, task_vars).run(task_vars=task_vars)
    assert not result.get("failed")


def test_a_role_it_does_not_have_is_refused():
    from ansible.errors import AnsibleError
    with pytest.raises(AnsibleError, match="no role '../calico'"):
        action(role_arguments.ActionModule, {"roles": ["../calico"]}, {}).run(task_vars={})
