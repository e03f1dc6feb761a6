# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address algebra on ranges.

Every value is kept as a netaddr ``IPRange`` (first and last address), never expanded
address by address, so sizes, containment and overlaps of a /8 cost the same as a /30.

Accepted forms, alone, in a list, or in a comma-separated string:
``10.0.0.5-10.0.0.9`` (range), ``10.0.0.0/29`` (network), ``10.0.0.5`` (one address).
Parse errors raise ``AddressError`` carrying a DESIGN.md finding code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

try:
    import netaddr
except ImportError:
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None

from ansible.module_utils.six import string_types


class AddressError(ValueError):
    """A value that is not a usable address; ``code`` is the finding code."""

    def __init__(self, code, message):
        super(AddressError, self).__init__(message)
        self.code = code
        self.message = message


def split_list(value):
    """A list of non-empty strings from a list, a comma-separated string, or None.

    Items of a list may themselves be comma-separated (survey answers often are).
    """
    if value is None:
        return []
    if isinstance(value, string_types):
        items = [value]
    elif isinstance(value, (list, tuple, set)):
        items = list(value)
    else:
        items = [value]
    result = []
    for item in items:
        if item is None:
            continue
        for part in str(item).split(","):
            part = part.strip()
            if part:
                result.append(part)
    return result


def parse_address(text):
    """One IP address, in canonical form only (no ``10.1`` shorthand)."""
    text = str(text).strip()
    if not text:
        raise AddressError("invalid_address", "empty value is not an IP address")
    try:
        return netaddr.IPAddress(text, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise AddressError("invalid_address", "%r is not an IP address" % text)


def parse_network(text, require_network=True):
    """A CIDR network. With ``require_network``, host bits must be zero."""
    text = str(text).strip()
    if "/" not in text:
        raise AddressError("invalid_address", "%r is not a CIDR (expected address/prefix)" % text)
    address_text, prefix_text = text.split("/", 1)
    address = parse_address(address_text)
    # int() would also take '+8', '2_4' and ' 24'; a prefix length is plain ASCII digits.
    if not (prefix_text.isdigit() and prefix_text.isascii()):
        raise AddressError("invalid_address", "%r has a prefix length that is not a number" % text)
    prefix = int(prefix_text)
    if not 0 <= prefix <= (32 if address.version == 4 else 128):
        raise AddressError("invalid_address", "%r has a prefix length out of range" % text)
    network = netaddr.IPNetwork("%s/%d" % (address, prefix))
    if require_network and network.ip != network.network:
        raise AddressError(
            "host_bits_set",
            "%r has host bits set; the network is %s" % (text, network.cidr),
        )
    return network


def parse_range(text, require_network=True):
    """One ``IPRange`` from a range, a CIDR or a single address."""
    text = str(text).strip()
    if "-" in text:
        start_text, end_text = [part.strip() for part in text.split("-", 1)]
        start, end = parse_address(start_text), parse_address(end_text)
        if start.version != end.version:
            raise AddressError("mixed_family", "%r mixes IPv4 and IPv6" % text)
        if start > end:
            raise AddressError("range_reversed", "%r starts after it ends" % text)
        return netaddr.IPRange(start, end)
    if "/" in text:
        network = parse_network(text, require_network=require_network)
        # From addresses, not integers: an integer below 2**32 would turn ::1/128 into IPv4.
        return netaddr.IPRange(network[0], network[-1])
    address = parse_address(text)
    return netaddr.IPRange(address, address)


def parse_ranges(value, require_network=True):
    """Parse every item; returns ``(ranges, errors)`` where errors are ``(item, AddressError)``."""
    ranges, errors = [], []
    for item in split_list(value):
        try:
            ranges.append(parse_range(item, require_network=require_network))
        except AddressError as error:
            errors.append((item, error))
    return ranges, errors


def as_ranges(value):
    """Ranges from any accepted form, raising ``AddressError`` on the first bad item."""
    if isinstance(value, netaddr.IPRange):
        return [value]
    if isinstance(value, netaddr.IPNetwork):
        return [netaddr.IPRange(value[0], value[-1])]
    if isinstance(value, netaddr.IPAddress):
        return [netaddr.IPRange(value, value)]
    if isinstance(value, (list, tuple)) and value and all(
        isinstance(item, (netaddr.IPRange, netaddr.IPNetwork, netaddr.IPAddress)) for item in value
    ):
        result = []
        for item in value:
            result.extend(as_ranges(item))
        return result
    ranges, errors = parse_ranges(value, require_network=False)
    if errors:
        raise errors[0][1]
    return ranges


def range_size(ranges):
    """Number of addresses in a range or a list of ranges (overlaps counted once)."""
    return sum(r.size for r in merge_ranges(_listify(ranges)))


def overlaps(a, b):
    """True when two ranges (or networks) share at least one address."""
    return a.version == b.version and a.first <= b.last and b.first <= a.last


def contains(outer, inner):
    """True when every address of ``inner`` lies in ``outer``."""
    return outer.version == inner.version and outer.first <= inner.first and inner.last <= outer.last


def contains_all(outers, inner):
    """True when every address of ``inner`` lies in the union of ``outers``."""
    position = inner.first
    for candidate in merge_ranges([o for o in outers if o.version == inner.version]):
        if candidate.last < position:
            continue
        if candidate.first > position:
            return False
        if candidate.last >= inner.last:
            return True
        position = candidate.last + 1
    return False


def contains_address(ranges, address):
    value = int(address)
    return any(r.version == address.version and r.first <= value <= r.last for r in _listify(ranges))


def intersection(a, b):
    """The shared part of two ranges, or None."""
    if not overlaps(a, b):
        return None
    first, last = max(a.first, b.first), min(a.last, b.last)
    return netaddr.IPRange(netaddr.IPAddress(first, a.version), netaddr.IPAddress(last, a.version))


def merge_ranges(ranges):
    """Sorted, disjoint, coalesced ranges (adjacent ranges are joined)."""
    result = []
    for r in sorted(ranges, key=lambda item: (item.version, item.first, item.last)):
        if result and result[-1].version == r.version and r.first <= result[-1].last + 1:
            if r.last > result[-1].last:
                last = result[-1]
                result[-1] = netaddr.IPRange(last[0], netaddr.IPAddress(r.last, r.version))
        else:
            result.append(netaddr.IPRange(r[0], r[-1]))
    return result


def range_to_cidrs(ranges):
    """The minimal list of CIDRs covering exactly the given ranges."""
    cidrs = []
    for r in merge_ranges(_listify(ranges)):
        cidrs.extend(str(c) for c in netaddr.iprange_to_cidrs(r[0], r[-1]))
    return cidrs


def format_range(r):
    return "%s-%s" % (r[0], r[-1])


def summarize(ranges):
    """The normalised form used in results: ``{ranges, cidrs, count}``."""
    merged = merge_ranges(ranges)
    return {
        "ranges": [format_range(r) for r in merged],
        "cidrs": range_to_cidrs(merged),
        "count": sum(r.size for r in merged),
    }


def nth_host(network, index):
    """The ``index``-th address of a network (1 = first host), as a string."""
    if not 0 <= index < network.size:
        raise AddressError("invalid_address", "%s has no address number %d" % (network.cidr, index))
    return str(netaddr.IPAddress(network.first + index, network.version))


def _listify(ranges):
    if isinstance(ranges, (list, tuple)):
        return list(ranges)
    return [ranges]
