# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: ip_range_cidrs
short_description: Turn IP ranges into the shortest list of CIDRs that covers exactly them
version_added: 0.1.0
description:
  - Returns the fewest CIDR blocks whose union is exactly the set of addresses in the input,
    for tools that take only CIDRs (firewall rules, C(loadBalancerSourceRanges), route tables).
  - The input takes the forms of the compute network settings. C(a.b.c.d-a.b.c.e) (a range),
    C(a.b.c.d/n) (a CIDR), C(a.b.c.d) (one address), a list of these, or a comma-separated string.
  - Overlapping and adjacent entries are joined first, so the result never repeats an address.
    The blocks come sorted, IPv4 before IPv6. A single address becomes a C(/32) (IPv4) or C(/128) (IPv6).
  - A CIDR with host bits set (C(10.0.0.5/24)) stands for its whole network.
  - Fails with a message that starts with the finding code (C(invalid_address), C(range_reversed) or
    C(mixed_family)) when an entry is not an address, a range or a CIDR.
author:
  - edgeops maintainers
options:
  _input:
    description: Ranges, CIDRs or addresses; a list or a comma-separated string. Empty input gives an empty list.
    type: raw
    required: true
requirements:
  - netaddr
seealso:
  - plugin: edgeops.k8s_network.ip_range_size
    plugin_type: filter
"""

EXAMPLES = r"""
- name: CIDRs of a MetalLB pool range
  ansible.builtin.debug:
    msg: "{{ '192.168.10.20-192.168.10.29' | edgeops.k8s_network.ip_range_cidrs }}"
  # => ['192.168.10.20/30', '192.168.10.24/30', '192.168.10.28/31']

- name: Adjacent entries merge into one block
  ansible.builtin.debug:
    msg: "{{ ['10.0.0.0/25', '10.0.0.128-10.0.0.255'] | edgeops.k8s_network.ip_range_cidrs }}"
  # => ['10.0.0.0/24']

- name: IPv6
  ansible.builtin.debug:
    msg: "{{ '2001:db8::1-2001:db8::6' | edgeops.k8s_network.ip_range_cidrs }}"
  # => ['2001:db8::1/128', '2001:db8::2/127', '2001:db8::4/127', '2001:db8::6/128']
"""

RETURN = r"""
_value:
  description: CIDR strings, sorted, disjoint, as few as possible.
  type: list
  elements: str
"""

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges
from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.filter_ranges import ranges_of


def ip_range_cidrs(value):
    """The minimal CIDR list covering exactly the addresses of ``value``."""
    return ipranges.range_to_cidrs(ranges_of(value, "ip_range_cidrs"))


class FilterModule(object):
    def filters(self):
        return {"ip_range_cidrs": ip_range_cidrs}
