# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every renderer (calico_config, metallb_config, coredns_config, verify_config) shares:
where it runs, what it needs, and its check and diff modes for I(dest)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options: {}
notes:
  - "Runs in the controller's Python through the collection's action plugin of the same name: no module
    process is started. It runs as an ordinary module on the task's host where the controller lacks
    C(netaddr) or C(PyYAML), or where I(dest) is on another host, written with become, or given file
    options beyond I(mode) (in octal), I(owner) and I(group)."
requirements:
  - netaddr
attributes:
  check_mode:
    support: full
    description: Computes everything; with I(dest), reports whether the file would change without writing it.
  diff_mode:
    support: full
    description: With I(dest), the old and new file text.
"""
