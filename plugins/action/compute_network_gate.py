# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run compute_network_gate in the controller's Python: a refusal or a group, nothing to compute."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.edgeops.k8s_network.plugins.module_utils.cluster_gate import gate_outcome
from ansible_collections.edgeops.k8s_network.plugins.modules.compute_network_gate import ARGUMENT_SPEC
from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.task_args import validate_task_args


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        params, _no_log_values, msg = validate_task_args(self._task, ARGUMENT_SPEC)
        if msg:
            result.update(failed=True, msg=msg)
            return result
        result.update(gate_outcome(params))
        return result
