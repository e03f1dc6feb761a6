# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_network_check in the controller's Python (see plugin_utils/controller_run.py and task_args.py).

Pure comparison of the task's options: validated against the module's own argument spec, then
run in process. Where the controller lacks netaddr or PyYAML, the module runs as usual on the
task's host and says what is missing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.edgeops.k8s_network.plugins.module_utils import cluster_network, ipranges
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import failure_message, warning_lines
from ansible_collections.edgeops.k8s_network.plugins.modules.cluster_network_check import ARGUMENT_SPEC
from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.task_args import validate_task_args


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        if not (ipranges.HAS_NETADDR and cluster_network.HAS_YAML):
            return self._execute_module(task_vars=task_vars)
        result = super(ActionModule, self).run(tmp, task_vars)
        params, _no_log_values, msg = validate_task_args(self._task, ARGUMENT_SPEC)
        if msg:
            result.update(failed=True, msg=msg)
            return result
        outcome, findings = cluster_network.check_run(params)
        result.update(outcome)
        result["findings"] = findings
        msg = failure_message(findings, strict=params["strict"])
        if msg:
            result.update(failed=True, msg=msg)
        warnings = warning_lines(findings)
        if warnings:
            result["warnings"] = warnings
        return result
