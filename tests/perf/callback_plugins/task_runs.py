# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count the task runs each host gets, for tests/perf/bench.py.

A skipped task costs Ansible a worker fork and templating of its conditions as a run does, so
every result counts: ok, changed, skipped, failed, unreachable. Loop items are counted apart.
The counts go to the file named by EDGEOPS_TASK_RUNS as JSON when the playbook ends.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: task_runs
type: aggregate
short_description: Count task runs and loop items per host (benchmark aid)
description:
  - "Writes the runs and loop items of each host as JSON to the file named by C(EDGEOPS_TASK_RUNS)."
requirements:
  - enabled through C(ANSIBLE_CALLBACKS_ENABLED)
"""

import collections
import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_runs"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.runs = collections.Counter()
        self.items = collections.Counter()
        self.names = collections.Counter()

    def _run(self, result):
        self.runs[result._host.get_name()] += 1
        self.names[result._task.get_name()] += 1

    def _item(self, result):
        self.items[result._host.get_name()] += 1

    v2_runner_on_ok = v2_runner_on_skipped = v2_runner_on_unreachable = _run

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._run(result)

    v2_runner_item_on_ok = v2_runner_item_on_skipped = v2_runner_item_on_failed = _item

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("EDGEOPS_TASK_RUNS")
        if not path:
            return
        hosts = sorted(set(self.runs) | set(self.items))
        with open(path, "w") as handle:
            json.dump({"hosts": dict((h, {"runs": self.runs[h], "items": self.items[h]}) for h in hosts),
                       "tasks": dict(self.names)}, handle, indent=1, sort_keys=True)
