# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""BGP numbers shared by the compute network check and the MetalLB renderer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The ASNs Azure Stack Edge accepts for a BGP peer: 16-bit 1-65534 and 32-bit 131072-4294967294
# (0, 65535 and 4294967295 are reserved, and 65536-131071 is not handed out).
ASN_RANGES = ((1, 65534), (131072, 4294967294))
ASN_RANGES_TEXT = "1-65534 or 131072-4294967294"


def usable_asn(value):
    """The ASN as an int, or None when ``value`` is not a usable ASN (booleans are not numbers)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if any(low <= number <= high for low, high in ASN_RANGES):
        return number
    return None
