# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the checks that report findings (compute_network_check, cluster_network_check)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  field_prefix:
    description:
      - Prefix for the C(field) of each finding, so that it names the variable the user set
        (the C(compute_network) role passes C(compute_network_)).
    type: str
    default: ""
  strict:
    description:
      - Treat warnings as errors (the C(compute_network) role passes C(compute_network_strict)).
    type: bool
    default: false
"""
