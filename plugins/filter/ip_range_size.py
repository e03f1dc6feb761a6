# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: ip_range_size
short_description: Count the addresses in IP ranges, CIDRs and single addresses
version_added: 0.1.0
description:
  - Returns how many distinct IP addresses the input holds.
  - The input takes the forms of the compute network settings. C(a.b.c.d-a.b.c.e) (a range),
    C(a.b.c.d/n) (a CIDR), C(a.b.c.d) (one address), a list of these, or a comma-separated string.
  - Addresses covered by more than one entry count once.
  - Works on ranges, never address by address, so C(10.0.0.0/8) is as cheap as C(10.0.0.0/30).
    IPv6 works as well.
  - A CIDR with host bits set (C(10.0.0.5/24)) stands for its whole network.
  - Fails with a message that starts with the finding code (C(invalid_address), C(range_reversed) or
    C(mixed_family)) when an entry is not an address, a range or a CIDR.
author:
  - edgeops maintainers
options:
  _input:
    description: Ranges, CIDRs or addresses; a list or a comma-separated string. Empty input counts 0.
    type: raw
    required: true
requirements:
  - netaddr
seealso:
  - plugin: edgeops.k8s_network.ip_range_cidrs
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Addresses in a range
  ansible.builtin.debug:
    msg: "{{ '192.168.10.20-192.168.10.29' | edgeops.k8s_network.ip_range_size }}"
  # => 10

- name: Enough node IPs for three nodes (n+1)?
  ansible.builtin.assert:
    that:
      - compute_network_node_ips | edgeops.k8s_network.ip_range_size >= 3 + 1
  vars:
    compute_network_node_ips: 192.168.10.11-192.168.10.14

- name: Mixed forms in a comma-separated string; overlapping entries count once
  ansible.builtin.debug:
    msg: "{{ '10.0.0.0/30, 10.0.0.2-10.0.0.5, 10.0.0.9' | edgeops.k8s_network.ip_range_size }}"
  # => 7
"""

RETURN = r"""
_value:
  description: The number of distinct addresses.
  type: int
"""

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges
from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.filter_ranges import ranges_of


def ip_range_size(value):
    """Number of distinct addresses in ``value``."""
    return ipranges.range_size(ranges_of(value, "ip_range_size"))


class FilterModule(object):
    def filters(self):
        return {"ip_range_size": ip_range_size}
