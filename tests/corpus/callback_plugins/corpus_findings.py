# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record every task result of a run, per host, as JSON for tests/corpus/test_corpus.py.

The default callback prints results in a form meant for people; the corpus test needs the
findings of each module and any sign of a crash, per host, without parsing that output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: corpus_findings
type: aggregate
short_description: write each host's task results (findings, failures, crashes) to a JSON file
description:
  - Test helper of tests/corpus. Writes to the file named by the environment variable
    C(CORPUS_RESULTS) when the run ends.
requirements:
  - enable in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os

from ansible.plugins.callback import CallbackBase

# ansible-core 2.19 puts "(traceback unavailable)" in `exception` of every fail_json; a real
# crash shows as MODULE FAILURE with the interpreter's output, or a traceback text.
_CRASH_KEYS = ("module_stderr", "module_stdout")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "corpus_findings"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.results = {}

    def _record(self, result, status):
        raw = result._result  # pylint: disable=protected-access
        host = result._host.get_name()  # pylint: disable=protected-access
        task = result._task  # pylint: disable=protected-access
        entry = {
            "task": task.get_name(),
            "action": task.action,
            "status": status,
            "findings": raw.get("findings") or [],
            "msg": str(raw.get("msg", "")),
            "crash": dict((key, str(raw[key])) for key in _CRASH_KEYS if raw.get(key)),
            "exception": str(raw.get("exception") or ""),
        }
        self.results.setdefault(host, []).append(entry)

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("CORPUS_RESULTS")
        if path:
            with open(path, "w") as handle:
                json.dump(self.results, handle, indent=1, sort_keys=True)
