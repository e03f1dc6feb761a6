# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run site_bundle in the controller's Python (see plugin_utils/controller_run.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.edgeops.k8s_network.plugins.module_utils.site_bundle import bundle_run
from ansible_collections.edgeops.k8s_network.plugins.modules.site_bundle import ARGUMENT_SPEC
from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.controller_run import ControllerRunAction


class ActionModule(ControllerRunAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    NEEDS_NETADDR = False
    RUN = staticmethod(bundle_run)
