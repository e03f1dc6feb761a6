# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run release_manifests in the controller's Python while every file is at hand.

Files come from their folder, the download cache or the bundle, all on the controller
(``delegate_to: localhost``); reading and hashing them is the whole run. A file that must be
downloaded runs the module as usual, which downloads, checks and caches it (see
plugin_utils/controller_run.py for the rest).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.edgeops.k8s_network.plugins.module_utils import releases
from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.controller_run import ControllerRunAction


def _run(params, _files, _show_diff):
    return releases.manifests_run(params, releases.no_download)


class ActionModule(ControllerRunAction):
    ARGUMENT_SPEC = releases.ARGUMENT_SPEC
    NEEDS_NETADDR = False
    NEEDS_YAML = False
    # Every path it reads or caches into is on the task's host: in process only where that is the controller.
    FILE_OPTIONS = ("cache_dir", "bundle_dir")
    ADD_FILE_COMMON_ARGUMENTS = False
    RUN = staticmethod(_run)

    def run(self, tmp=None, task_vars=None):
        try:
            return super(ActionModule, self).run(tmp, task_vars)
        except releases.DownloadNeeded:
            return self._execute_module(task_vars=task_vars)
