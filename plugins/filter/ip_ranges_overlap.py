# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: ip_ranges_overlap
short_description: Test whether two sets of IP ranges share any address
version_added: 0.1.0
description:
  - True when at least one address lies in both I(_input) and I(other), whatever the kind of
    overlap. One inside the other either way, a partial overlap, or two ranges that touch at a
    single address all count.
  - Both sides take the forms of the compute network settings. C(a.b.c.d-a.b.c.e) (a range),
    C(a.b.c.d/n) (a CIDR), C(a.b.c.d) (one address), a list of these, or a comma-separated string.
  - Works on ranges, never address by address; IPv6 works as well. IPv4 and IPv6 never overlap.
    An empty side overlaps nothing.
  - A CIDR with host bits set (C(10.0.0.5/24)) stands for its whole network.
  - Fails with a message that starts with the finding code (C(invalid_address), C(range_reversed) or
    C(mixed_family)) and names the bad side when an entry is not an address, a range or a CIDR.
author:
  - edgeops maintainers
options:
  _input:
    description: Ranges, CIDRs or addresses; a list or a comma-separated string.
    type: raw
    required: true
  other:
    description: Ranges, CIDRs or addresses to compare with; same forms.
    type: raw
    required: true
requirements:
  - netaddr
seealso:
  - plugin: edgeops.k8s_network.ip_range_contains
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Pod and service CIDRs must not overlap
  ansible.builtin.assert:
    that:
      - not (compute_network_pod_cidr | edgeops.k8s_network.ip_ranges_overlap(compute_network_service_cidr))
  vars:
    compute_network_pod_cidr: 172.27.0.0/16
    compute_network_service_cidr: 172.28.0.0/16

- name: A supernet counts as an overlap
  ansible.builtin.debug:
    msg: "{{ '10.233.0.0/16' | edgeops.k8s_network.ip_ranges_overlap('10.233.0.0/18') }}"
  # => true

- name: Node IPs and external service IPs that touch at one address
  ansible.builtin.debug:
    msg: "{{ '192.168.10.11-192.168.10.20' | edgeops.k8s_network.ip_ranges_overlap('192.168.10.20-192.168.10.29') }}"
  # => true

- name: Adjacent ranges do not overlap
  ansible.builtin.debug:
    msg: "{{ '192.168.10.11-192.168.10.19' | edgeops.k8s_network.ip_ranges_overlap(['192.168.10.20-192.168.10.29', '10.0.0.0/8']) }}"
  # => false
"""

RETURN = r"""
_value:
  description: Whether the two sides share at least one address.
  type: bool
"""

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges
from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.filter_ranges import ranges_of


def ip_ranges_overlap(value, other):
    """True when ``value`` and ``other`` share at least one address."""
    left = ranges_of(value, "ip_ranges_overlap", "input")
    right = ranges_of(other, "ip_ranges_overlap", "other")
    return any(ipranges.overlaps(a, b) for a in left for b in right)


class FilterModule(object):
    def filters(self):
        return {"ip_ranges_overlap": ip_ranges_overlap}
