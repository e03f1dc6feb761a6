# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Standard-library helpers for probing addresses from an edge node.

``compute_ip_probe`` runs on the node, where netaddr may be missing, so this file uses the
``ipaddress`` module only. Addresses are kept as inclusive integer intervals ``(first, last)``
so that the size of the work is known, and bounded, before a single address is listed.
The parsers return findings (see ``findings.py``) with the same codes as
``compute_network_check`` for the same mistakes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import math
import re

from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import finding
# Only the list splitting, which needs no netaddr: this runs on nodes with the standard library.
from ansible_collections.edgeops.k8s_network.plugins.module_utils.ipranges import merge_spans, split_list

try:
    text_type = unicode  # noqa: F821 pylint: disable=undefined-variable
except NameError:
    text_type = str

# iputils arping prints "Unicast reply from 192.0.2.50 [F2:31:BB:3C:13:37]  0.557ms";
# older builds say "Broadcast reply" for some answers, so the word before is not matched.
_ARPING_REPLY = re.compile(r"reply from\s+(\S+)\s+\[([0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5})\]")
_NEIGH_LLADDR = re.compile(r"\blladdr\s+([0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5})\b")
# Neighbour states in which the lladdr is not a fresh answer from the host.
_NEIGH_UNUSABLE = ("FAILED", "INCOMPLETE", "NOARP")
_LINK_FLAGS = re.compile(r"<([^>]*)>")
_IFNAME_MAX = 15  # IFNAMSIZ - 1 on Linux


class _BadAddress(Exception):
    def __init__(self, code, message):
        super(_BadAddress, self).__init__(message)
        self.code = code
        self.message = message


def _address(text, whole):
    text = text.strip()
    if not text:
        raise _BadAddress("invalid_address", "%r: an empty value is not an address" % whole)
    try:
        address = ipaddress.ip_address(text_type(text))
    except ValueError:
        raise _BadAddress("invalid_address", "%r is not an IP address, range or CIDR" % whole)
    if address.version != 4:
        raise _BadAddress("ipv6_unsupported", "%r is IPv6; the probe speaks ARP and ICMP over IPv4 only" % whole)
    return address


def _check_unicast(first, last, whole):
    """Refuse what no host can own: ARP and ping to these mean nothing or reach everyone."""
    for label, network in _NOT_UNICAST:
        if first <= int(network.broadcast_address) and int(network.network_address) <= last:
            raise _BadAddress(
                "address_not_unicast",
                "%r reaches into %s (%s); only unicast host addresses can be probed" % (whole, network, label),
            )


_NOT_UNICAST = (
    ("this-network addresses", ipaddress.ip_network(u"0.0.0.0/8")),
    ("loopback", ipaddress.ip_network(u"127.0.0.0/8")),
    ("multicast", ipaddress.ip_network(u"224.0.0.0/4")),
    ("reserved and limited broadcast", ipaddress.ip_network(u"240.0.0.0/4")),
)


def parse_item(text):
    """One interval ``(first, last)`` from a range, a CIDR or a single IPv4 address.

    A CIDR of /30 or wider loses its network and broadcast addresses: no host answers there,
    and ping refuses a broadcast target. Explicit ranges are taken as written.
    """
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text):
        # Trimmed at its ends by split_list; inside, a newline or NUL is never part of an address.
        raise _BadAddress("invalid_address", "%r holds a control character" % (text,))
    if "-" in text:
        start_text, end_text = text.split("-", 1)
        try:
            start = ipaddress.ip_address(text_type(start_text.strip()))
            end = ipaddress.ip_address(text_type(end_text.strip()))
        except ValueError:
            start = end = None
        if start is not None and start.version != end.version:
            raise _BadAddress("mixed_family", "%r mixes IPv4 and IPv6" % text)
        start, end = _address(start_text, text), _address(end_text, text)
        if start > end:
            raise _BadAddress("range_reversed", "%r starts after it ends" % text)
        first, last = int(start), int(end)
    elif "/" in text:
        address_text, prefix_text = text.split("/", 1)
        address = _address(address_text, text)
        prefix_text = prefix_text.strip()
        if not prefix_text.isdigit() or int(prefix_text) > 32:
            raise _BadAddress("invalid_address", "%r has a prefix length that is not 0-32" % text)
        try:
            network = ipaddress.ip_network(u"%s/%s" % (address, int(prefix_text)))
        except ValueError:
            strict = ipaddress.ip_network(u"%s/%s" % (address, int(prefix_text)), strict=False)
            raise _BadAddress("host_bits_set", "%r has host bits set; the network is %s" % (text, strict))
        first, last = int(network.network_address), int(network.broadcast_address)
        if network.prefixlen <= 30:
            first, last = first + 1, last - 1
    else:
        first = last = int(_address(text, text))
    _check_unicast(first, last, text)
    return first, last


def parse_intervals(value, field):
    """``(intervals, problems)``: every item parsed, every bad item a finding."""
    intervals, problems = [], []
    for item in split_list(value):
        try:
            intervals.append(parse_item(item))
        except _BadAddress as error:
            problems.append(finding(error.code, field, error.message))
    return merge(intervals), problems


def merge(intervals):
    """Sorted, disjoint intervals; overlapping or adjacent ones are joined (ipranges.merge_spans)."""
    return merge_spans(intervals)


def subtract(intervals, removed):
    """The parts of ``intervals`` not in ``removed`` (both merged)."""
    result = []
    for first, last in intervals:
        start = first
        for cut_first, cut_last in removed:
            if cut_last < start or cut_first > last:
                continue
            if cut_first > start:
                result.append((start, cut_first - 1))
            start = cut_last + 1
            if start > last:
                break
        if start <= last:
            result.append((start, last))
    return result


def count(intervals):
    return sum(last - first + 1 for first, last in intervals)


def addresses(intervals):
    """Each address of the intervals, in order, as a string. Call only after bounding the size."""
    for first, last in intervals:
        for value in range(first, last + 1):
            yield str(ipaddress.IPv4Address(value))


def interface_name_problem(name):
    """Why ``name`` cannot be a Linux interface name, or None."""
    if not isinstance(name, text_type) or not name:
        return "the interface name is empty"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        return "%r holds a control character; no interface is named so" % (name,)
    if len(name) > _IFNAME_MAX:
        return "%r is longer than %d characters, the Linux limit for interface names" % (name, _IFNAME_MAX)
    if name in (".", "..") or name.startswith("-") or any(c in name for c in "/:") or any(c.isspace() for c in name):
        return "%r is not a valid Linux interface name" % (name,)
    return None


def link_is_up(ip_link_output):
    """True when ``ip -o link show`` lists the interface administratively UP."""
    match = _LINK_FLAGS.search(ip_link_output or "")
    return bool(match) and "UP" in match.group(1).split(",")


def normalise_mac(mac):
    """Lower-case, two digits per octet (``0:1b:...`` becomes ``00:1b:...``)."""
    return ":".join(part.zfill(2) for part in mac.lower().split(":"))


def arping_reply(output, address):
    """The MAC that answered ARP for ``address`` in arping output, or None when nobody did."""
    for reported, mac in _ARPING_REPLY.findall(output or ""):
        if reported == address:
            return normalise_mac(mac)
    return None


def neighbour_mac(output):
    """The MAC from ``ip neigh show <ip> dev <if>`` when the entry holds a usable one."""
    for line in (output or "").splitlines():
        words = line.split()
        if any(state in words for state in _NEIGH_UNUSABLE):
            continue
        match = _NEIGH_LLADDR.search(line)
        if match:
            return normalise_mac(match.group(1))
    return None


def arping_deadline(timeout):
    """iputils arping takes whole seconds for ``-w`` (it rejects ``0.5``), so round up."""
    return str(max(1, int(math.ceil(timeout))))


def ping_wait(timeout):
    """Seconds for ``ping -W``: whole numbers stay whole, so older iputils accept them too."""
    if float(timeout).is_integer():
        return str(int(timeout))
    return "%g" % timeout


def arping_command(arping, interface, address, timeout):
    # -D (duplicate address detection) sends from 0.0.0.0, so the probe neither needs an
    # address on the interface nor teaches the neighbours a new ARP entry.
    return [arping, "-D", "-c", "1", "-w", arping_deadline(timeout), "-I", interface, address]


def ping_command(ping, interface, address, timeout):
    return [ping, "-c", "1", "-W", ping_wait(timeout), "-I", interface, address]


def neigh_command(ip, interface, address):
    return [ip, "neigh", "show", address, "dev", interface]


def first_line(*texts):
    """The first non-empty line of the given outputs, for error messages."""
    for text in texts:
        for line in (text or "").splitlines():
            if line.strip():
                return line.strip()
    return "no output"
