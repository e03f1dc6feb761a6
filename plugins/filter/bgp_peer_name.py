# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: bgp_peer_name
short_description: The object name of a MetalLB BGP peer, derived from its address when it has none
version_added: 0.1.0
description:
  - Returns the C(name) of a BGP peer as M(edgeops.k8s_network.metallb_config) names its C(BGPPeer) object.
  - A peer without a C(name) is named after its address, C(peer-) followed by the address with dots and
    colons as dashes (C(peer-192-168-10-1)), the same rule the module applies, so that the role names the
    peer's password Secret (C(metallb-bgp-<name>)) as the module refers to it.
  - Returns null when the peer has neither a name nor a usable address; the module then reports the
    address with its code.
author:
  - edgeops maintainers
options:
  _input:
    description: One peer, C({name, peer_address, peer_asn, my_asn, ...}).
    type: dict
    required: true
requirements:
  - netaddr
"""

EXAMPLES = r"""
- name: The name of a peer given only by address
  ansible.builtin.debug:
    msg: "{{ {'peer_address': '192.168.10.1', 'peer_asn': 64512, 'my_asn': 64513} | edgeops.k8s_network.bgp_peer_name }}"
  # => peer-192-168-10-1
"""

RETURN = r"""
_value:
  description: The peer's name, or null.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges, metallb


def bgp_peer_name(peer):
    """``peer['name']``, else the name metallb_config derives from the peer's address."""
    if not isinstance(peer, dict):
        raise AnsibleFilterError("bgp_peer_name: a BGP peer must be a mapping, got %s" % type(peer).__name__)
    if peer.get("name") not in (None, ""):
        return peer["name"]
    try:
        return metallb.peer_name_from_address(ipranges.parse_address(peer.get("peer_address") or ""))
    except ipranges.AddressError:
        return None


class FilterModule(object):
    def filters(self):
        return {"bgp_peer_name": bgp_peer_name}
