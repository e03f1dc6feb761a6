# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: ip_range_contains
short_description: Test whether IP ranges hold every address of other ranges
version_added: 0.1.0
description:
  - True when every address of I(item) lies in I(_input) (the container), false otherwise.
  - Both sides take the forms of the compute network settings. C(a.b.c.d-a.b.c.e) (a range),
    C(a.b.c.d/n) (a CIDR), C(a.b.c.d) (one address), a list of these, or a comma-separated string.
  - The container is the union of its entries, so C(10.0.0.0-10.0.0.9,10.0.0.10-10.0.0.19)
    contains C(10.0.0.5-10.0.0.15) although no single entry does.
  - Works on ranges, never address by address; IPv6 works as well. An IPv4 address is never inside
    an IPv6 range and the other way round.
  - As with sets, an empty I(item) is contained in anything. When an empty value is a mistake,
    test its length first.
  - A CIDR with host bits set (C(10.0.0.5/24)) stands for its whole network.
  - Fails with a message that starts with the finding code (C(invalid_address), C(range_reversed) or
    C(mixed_family)) and names the bad side when an entry is not an address, a range or a CIDR.
author:
  - edgeops maintainers
options:
  _input:
    description: The container. Ranges, CIDRs or addresses; a list or a comma-separated string.
    type: raw
    required: true
  item:
    description: The ranges, CIDRs or addresses that must lie inside the container.
    type: raw
    required: true
requirements:
  - netaddr
seealso:
  - plugin: edgeops.k8s_network.ip_ranges_overlap
    plugin_type: filter
"""

EXAMPLES = r"""
- name: The node IPs lie in the compute subnet
  ansible.builtin.assert:
    that:
      - "'192.168.10.0/24' | edgeops.k8s_network.ip_range_contains('192.168.10.11-192.168.10.14')"

- name: A fixed LoadBalancer IP outside the MetalLB pool
  ansible.builtin.debug:
    msg: "{{ '192.168.10.20-192.168.10.29' | edgeops.k8s_network.ip_range_contains('192.168.10.30') }}"
  # => false

- name: The container is the union of its entries
  ansible.builtin.debug:
    msg: "{{ ['10.0.0.0-10.0.0.9', '10.0.0.10-10.0.0.19'] | edgeops.k8s_network.ip_range_contains('10.0.0.5-10.0.0.15') }}"
  # => true
"""

RETURN = r"""
_value:
  description: Whether every address of I(item) lies in the container.
  type: bool
"""

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges
from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.filter_ranges import ranges_of


def ip_range_contains(container, item):
    """True when every address of ``item`` lies in the union of ``container``."""
    outers = ranges_of(container, "ip_range_contains", "container")
    inners = ranges_of(item, "ip_range_contains", "item")
    return all(ipranges.contains_all(outers, inner) for inner in inners)


class FilterModule(object):
    def filters(self):
        return {"ip_range_contains": ip_range_contains}
