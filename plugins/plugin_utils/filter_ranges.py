# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the range filters share: their argument as ranges, or an error that starts with its code."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges


def ranges_of(value, filter_name, side=None):
    """``value`` as netaddr ranges; ``side`` names the argument in the message of two-argument filters."""
    if not ipranges.HAS_NETADDR:
        raise AnsibleFilterError("%s needs the Python library netaddr on the controller (pip install netaddr)"
                                 % filter_name)
    try:
        return ipranges.as_ranges(value)
    except ipranges.AddressError as error:
        where = "%s: " % side if side else ""
        raise AnsibleFilterError("%s: %s%s" % (error.code, where, error.message))
