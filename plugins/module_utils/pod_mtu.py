# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pod MTU Felix derives from the port MTU: the one rule the check and the calico renderer share.

Kept apart from ``calico`` so that the check does not load the whole Calico renderer (the
collection loader compiles a plugin's Python anew in every task's worker).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DEFAULT_ENCAPSULATION = "IPIPCrossSubnet"
# Header bytes each encapsulation adds over IPv4: an outer IPv4 header for IPIP; outer IP, UDP,
# VXLAN and inner Ethernet headers for VXLAN. CrossSubnet still tunnels between segments.
ENCAPSULATION_OVERHEAD = {
    "IPIP": 20,
    "IPIPCrossSubnet": 20,
    "VXLAN": 50,
    "VXLANCrossSubnet": 50,
    "None": 0,
}
# WireGuard is not a pool encapsulation: Felix enables it (FelixConfiguration wireguardEnabled)
# beside whichever encapsulation the pool has, and the pod MTU is the smallest MTU of the
# enabled tunnels. Felix's defaults: WireGuard 60 bytes below the port MTU over IPv4, and
# every tunnel 20 bytes more over IPv6 (VXLAN 70, WireGuard 80).
WIREGUARD_OVERHEAD = 60
IPV6_EXTRA_OVERHEAD = 20


def overhead(encapsulation, wireguard=False, version=4):
    """Bytes Felix keeps free below the port MTU: those of the largest enabled tunnel."""
    largest = ENCAPSULATION_OVERHEAD.get(encapsulation or "None", 0)
    if wireguard:
        largest = max(largest, WIREGUARD_OVERHEAD)
    if version == 6 and largest:
        largest += IPV6_EXTRA_OVERHEAD
    return largest


def pod_mtu(port_mtu, encapsulation, wireguard=False, version=4):
    """Pod MTU for a port MTU, as Felix derives it: the port MTU minus the largest tunnel's headers."""
    if port_mtu is None:
        return None
    return port_mtu - overhead(encapsulation, wireguard, version)
