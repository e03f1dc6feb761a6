# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run compute_network_check in the controller's Python.

The check is pure computation over the task's options and takes half a millisecond;
starting a module process for it (AnsiballZ payload, a new interpreter, JSON both ways)
costs a few hundred times that per task. Here the options are validated against the
module's own argument spec and the check runs in process. Where the controller cannot
import netaddr, the module runs as usual on the task's host and says what is missing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges
from ansible_collections.edgeops.k8s_network.plugins.module_utils.compute_network import check_outcome
from ansible_collections.edgeops.k8s_network.plugins.modules.compute_network_check import ARGUMENT_SPEC
from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.task_args import validate_task_args


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        if not ipranges.HAS_NETADDR:
            return self._execute_module(task_vars=task_vars)
        result = super(ActionModule, self).run(tmp, task_vars)
        params, _no_log_values, msg = validate_task_args(self._task, ARGUMENT_SPEC)
        if msg:
            result.update(failed=True, msg=msg)
            return result
        outcome, warnings = check_outcome(params)
        result.update(outcome)
        if warnings:
            result["warnings"] = warnings
        return result
