# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the play's variables against several of the collection's role argument specs in one task.

What ansible.builtin.validate_argument_spec does for one role (the values of the spec's options
among the task's variables, templated, then the same validator with the role options), for each
role named, reading each spec from this collection, where the roles that will run come from.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.task_args import validate_task_args

import yaml

# libyaml's safe loader where PyYAML has it: ten times the pure-Python one, in every task's worker.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ARGUMENT_SPEC = dict(roles=dict(type="list", elements="str", required=True))
ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")


def role_spec(role):
    """The options of the role's entry point ``main`` in this collection."""
    path = os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml")
    if os.path.dirname(os.path.dirname(os.path.dirname(path))) != ROLES_DIR or not os.path.isfile(path):
        raise AnsibleError("role_arguments: this collection has no role %r with an argument spec" % role)
    with open(path) as handle:
        return yaml.load(handle, Loader=_LOADER)["argument_specs"]["main"]["options"]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        params, _no_log_values, msg = validate_task_args(self._task, ARGUMENT_SPEC)
        if msg:
            result.update(failed=True, msg=msg)
            return result
        errors = []
        for role in params["roles"]:
            spec = role_spec(role)
            given = self._templar.template(dict((name, task_vars[name]) for name in spec if name in task_vars))
            validation = ArgumentSpecValidator(spec).validate(given, validate_role_argument_spec=True)
            errors.extend(validation.error_messages)
        result.update(changed=False, argument_errors=errors)
        if errors:
            result.update(failed=True, msg="[role_argument_invalid] %s" % "; ".join(errors))
        return result
