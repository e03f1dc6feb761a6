# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An action that does nothing with its options, run in the check's place in tests/perf/loop_check.yml
by bench.py (benchmark aid).

Ansible templates a task's options for every loop item before any action runs; a loop of this
action with the check's options measures that, and the run's other costs, without the check.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        result["changed"] = False
        return result
