# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address algebra on ranges.

Every value is kept as its first and last address, never expanded address by address, so
sizes, containment and overlaps of a /8 cost the same as a /30.

Two layers. The netaddr layer (``parse_range``, ``merge_ranges``...) hands out netaddr
``IPRange`` objects, for the renderers and filters. The integer layer (``span_of``,
``merge_spans``, ``shared_spans``...) is what the check runs on: a span is a
``(first, last)`` pair of integers of one address family, IPv4 text is read and written
without netaddr (as netaddr reads it with ``INET_PTON``: dotted quads, no leading zeros,
no shorthand), and netaddr is used for IPv6 and for the errors' wording only.

Accepted forms, alone, in a list, or in a comma-separated string:
``10.0.0.5-10.0.0.9`` (range), ``10.0.0.0/29`` (network), ``10.0.0.5`` (one address).
Parse errors raise ``AddressError`` carrying a DESIGN.md finding code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import itertools
import operator
import re
import socket
import struct
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
    if isinstance(value, list):
        try:
            text = ",".join(value)
        except TypeError:  # an item that is no string: item by item below
            pass
        else:
            # The common case, a list of plain strings, in one pass over their joined text.
            if "," not in text:
                text = text.strip()
                return [text] if text else []
            return [part for part in map(str.strip, text.split(",")) if part]
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
        if isinstance(item, (list, tuple, set, dict)):
            # Never str() a container: a deeply nested one would exhaust the stack. As a part it
            # fails to parse like any other text that is no address, with a code.
            result.append("(a %s of %d items)" % (type(item).__name__, len(item)))
            continue
        for part in str(item).split(","):
            part = part.strip()
            if part:
                result.append(part)
    return result


_IPV4 = struct.Struct(">I")
_LEADING_ZERO = re.compile(r"(?:^|\.)0[0-9]")
# Two dotted quads without leading zeros (inet_pton then refuses octets above 255).
_QUAD = r"(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}"
# Spaces only around the dash: a newline or tab inside a value is refused (see _text).
_IPV4_RANGE = re.compile(r"(%s) *- *(%s)\Z" % (_QUAD, _QUAD))
_pton, _INET = socket.inet_pton, socket.AF_INET
_IPV4_BITS = 32


def _ipv4_value(text):
    """IPv4 text as an integer, read as netaddr reads it with INET_PTON, or None."""
    if ":" in text:
        return None
    if _LEADING_ZERO.search(text):
        return None
    try:
        return _IPV4.unpack(socket.inet_pton(socket.AF_INET, text))[0]
    except (OSError, ValueError, TypeError):
        return None


def ipv4_text(value):
    """An IPv4 address, as an integer, in dotted-quad form."""
    return socket.inet_ntoa(_IPV4.pack(value))


# The canonical text of an IPv4 address and network (as ipv4_text and network_value's cidr write
# them): a dotted quad without leading zeros, a prefix length without one.
_CANONICAL_IPV4 = re.compile(r"%s\Z" % _QUAD)
_CANONICAL_IPV4_NETWORK = re.compile(r"(%s)/(3[0-2]|[12][0-9]|[0-9])\Z" % _QUAD)


def canonical_ipv4(text):
    """The integer of an IPv4 address given in its canonical text (``ipv4_text(value) == text``),
    else None: address_value reads it the same, this only sooner."""
    if _CANONICAL_IPV4.match(text) is None:
        return None
    try:
        return _IPV4.unpack(_pton(_INET, text))[0]
    except (OSError, ValueError):  # an octet above 255
        return None


def canonical_ipv4_network(text):
    """``(first, last, prefix)`` of an IPv4 network given in its canonical text, without host bits,
    else None: network_value reads it the same, this only sooner."""
    match = _CANONICAL_IPV4_NETWORK.match(text)
    if match is None:
        return None
    try:
        value = _IPV4.unpack(_pton(_INET, match.group(1)))[0]
    except (OSError, ValueError):  # an octet above 255
        return None
    prefix = int(match.group(2))
    host_bits = (1 << (_IPV4_BITS - prefix)) - 1
    if value & host_bits:
        return None
    return value, value | host_bits, prefix


def format_address(value, version=4):
    """An address given as an integer, as text (netaddr's form)."""
    return ipv4_text(value) if version == 4 else str(netaddr.IPAddress(value, version))


def address_value(text):
    """One address as ``(version, integer)``, with parse_address's errors."""
    text = _text(text)
    value = _ipv4_value(text) if text else None
    if value is not None:
        return 4, value
    address = parse_address(text)
    return address.version, int(address)


def network_value(text, require_network=True):
    """A CIDR as ``(version, first, last, prefix)``, with parse_network's errors."""
    text = _text(text)
    address_part, _slash, prefix_text = text.partition("/")
    value = _ipv4_value(address_part.strip()) if _slash else None
    if value is None or not (prefix_text.isdigit() and prefix_text.isascii()) or int(prefix_text) > _IPV4_BITS:
        # IPv6, or an error to word exactly as parse_network does
        network = parse_network(text, require_network=require_network)
        return network.version, network.first, network.last, network.prefixlen
    prefix = int(prefix_text)
    host_bits = (1 << (_IPV4_BITS - prefix)) - 1
    first = value & ~host_bits
    if require_network and value != first:
        raise AddressError("host_bits_set", "%r has host bits set; the network is %s/%d" % (text, ipv4_text(first), prefix))
    return 4, first, first | host_bits, prefix


# Control characters (a newline, a NUL) inside a value: trimmed at its ends, refused within.
_CONTROL = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _text(text):
    """``text`` trimmed, refusing a control character inside it (``10.0.0.1\n-10.0.0.5``)."""
    text = str(text).strip()
    if _CONTROL.search(text):
        raise AddressError("invalid_address", "%r holds a control character" % text)
    return text


def parse_address(text):
    """One IP address, in canonical form only (no ``10.1`` shorthand)."""
    text = _text(text)
    if not text:
        raise AddressError("invalid_address", "empty value is not an IP address")
    try:
        return netaddr.IPAddress(text, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise AddressError("invalid_address", "%r is not an IP address" % text)


def parse_network(text, require_network=True):
    """A CIDR network. With ``require_network``, host bits must be zero."""
    text = _text(text)
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
    text = _text(text)
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


def span_of(text, require_network=True):
    """``(version, first, last)`` of a range, a CIDR or one address: parse_range in integers."""
    text = _text(text)
    if "-" in text:
        start_text, _dash, end_text = text.partition("-")
        start_text, end_text = start_text.strip(), end_text.strip()
        start, end = _ipv4_value(start_text), _ipv4_value(end_text)
        if start is not None and end is not None and start <= end:
            return 4, start, end
        start_version, start = address_value(start_text)
        end_version, end = address_value(end_text)
        if start_version != end_version:
            raise AddressError("mixed_family", "%r mixes IPv4 and IPv6" % text)
        if start > end:
            raise AddressError("range_reversed", "%r starts after it ends" % text)
        return start_version, start, end
    if "/" in text:
        version, first, last, _prefix = network_value(text, require_network=require_network)
        return version, first, last
    version, value = address_value(text)
    return version, value, value


# Every line a plain IPv4 range: the fast path of parse_spans, for long lists. Where inet_pton
# refuses what _QUAD does (leading zeros, fewer than four parts; glibc, musl and the BSDs do), the
# digits and dots are left to it; elsewhere the lines must match _QUAD as well.
def _pton_strict():
    for text in ("01.2.3.4", "1.2.3", "1.2.3.04", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1.2.3.4,"):
        try:
            _pton(_INET, text)
        except (OSError, ValueError):
            continue
        return False
    return True


_PTON_STRICT = _pton_strict()
_IPV4_RANGE_LINES = re.compile(r"^([0-9.]+) *- *([0-9.]+)$" if _PTON_STRICT else
                               r"^(%s) *- *(%s)$" % (_QUAD, _QUAD), re.MULTILINE)
_LE, _SUB = operator.le, operator.sub


_CANONICAL_IPV4_RANGE = re.compile(r"(%s)-(%s)\Z" % (_QUAD, _QUAD))


def plain_ipv4_ranges(value):
    """A list of IPv4 ranges in their canonical text, read at once; None for anything else.

    ``value`` is a comma-separated string or a list of strings, one item or more, each item
    ``a.b.c.d-e.f.g.h`` exactly as span_text writes it (no space, no leading zero, no empty item)
    and starting at or before it ends. Returns ``(spans, texts, apart)``: the spans as ``(first,
    last)`` pairs, ``texts`` the items themselves (each its span's span_text), and ``apart`` true
    when each span starts more than one address after the previous one ends, so that the list is
    its own merge (merge_spans) and no two of its spans share an address. Where this returns None,
    parse_spans reads the list item by item, with the same spans for what this takes.
    """
    if isinstance(value, string_types):
        text = value
    elif isinstance(value, list):
        try:
            text = ",".join(value)
        except TypeError:  # an item that is no string
            return None
    else:
        return None
    count = text.count(",") + 1
    if count == 1:
        match = _CANONICAL_IPV4_RANGE.match(text)
        if match is None:
            return None
        try:
            first, last = _IPV4.unpack(_pton(_INET, match.group(1)))[0], _IPV4.unpack(_pton(_INET, match.group(2)))[0]
        except (OSError, ValueError):  # an octet above 255
            return None
        return ([(first, last)], [str(text)], True) if first <= last else None
    if not _PTON_STRICT or not text.isascii():
        return None
    # Its separators, in order, are a dash in each item and a comma between items, and nothing
    # else is there but digits and dots: the addresses inet_pton reads.
    if text.encode("ascii").translate(None, b"0123456789.") != b"-," * (count - 1) + b"-":
        return None
    try:
        packed = b"".join(map(_pton, itertools.repeat(_INET, 2 * count), text.replace("-", ",").split(",")))
    except (OSError, ValueError):  # an empty address, an octet above 255, fewer than four parts
        return None
    texts = text.split(",")
    values = struct.unpack(">%dI" % (2 * count), packed)
    starts, ends = values[0::2], values[1::2]
    if not all(map(_LE, starts, ends)):
        return None
    apart = min(map(_SUB, starts[1:], ends[:-1])) > 1
    return list(zip(starts, ends)), texts, apart


def _ipv4_range_spans(items):
    """``items`` as spans when every one is a plain IPv4 range that starts before it ends, else None.

    The same reading as parse_spans' per-item path, done on the items' joined text at once.
    """
    text = "\n".join(items)
    if text.count("\n") != len(items) - 1:  # an item holding a newline: per item
        return None
    found = _IPV4_RANGE_LINES.findall(text)
    if len(found) != len(items):
        return None
    try:
        packed = b"".join([_pton(_INET, address) for pair in found for address in pair])
    except (OSError, ValueError):  # an octet above 255
        return None
    values = struct.unpack(">%dI" % (2 * len(found)), packed)
    starts, ends = values[0::2], values[1::2]
    if not all(map(operator.le, starts, ends)):
        return None
    return list(zip(itertools.repeat(4), starts, ends))


def parse_spans(value, require_network=True):
    """Parse every item; ``(spans, errors)``, spans as ``(version, first, last)``, errors as parse_ranges."""
    items = split_list(value)
    if len(items) > 4:
        spans = _ipv4_range_spans(items)
        if spans is not None:
            return spans, []
    spans, errors = [], []
    for item in items:
        # The common IPv4 range is read here; anything else, and every error, by span_of.
        match = _IPV4_RANGE.match(item)
        if match:
            try:
                start, end = _IPV4.unpack(_pton(_INET, match.group(1)))[0], _IPV4.unpack(_pton(_INET, match.group(2)))[0]
            except (OSError, ValueError):  # an octet above 255
                pass
            else:
                if start <= end:
                    spans.append((4, start, end))
                    continue
        try:
            spans.append(span_of(item, require_network=require_network))
        except AddressError as error:
            errors.append((item, error))
    return spans, errors


def merge_spans(spans):
    """Sorted, disjoint, coalesced ``(first, last)`` pairs of one family; adjacent ones are joined."""
    if isinstance(spans, list) and len(spans) < 2:  # a one-range site's every list: nothing to sort or join
        return [tuple(span) for span in spans]
    result = []
    for first, last in sorted(spans):
        if result and first <= result[-1][1] + 1:
            if last > result[-1][1]:
                result[-1] = (result[-1][0], last)
        else:
            result.append((first, last))
    return result


def spans_size(merged):
    """Number of addresses in merged spans."""
    return sum(last - first + 1 for first, last in merged)


def _first_reaching(merged, value, low):
    """Index, from ``low``, of the first merged span that ends at or after ``value``."""
    index = bisect.bisect_left(merged, (value,), low)
    if index > low and merged[index - 1][1] >= value:
        return index - 1
    return index


def shared_spans(left, right):
    """Every intersection between two merged span lists, in order.

    A walk over both lists that jumps (by bisection) over the spans of one list lying
    wholly before the other's current span: a single network against a thousand ranges
    costs a few steps, not a thousand.
    """
    i = j = 0
    left_count, right_count = len(left), len(right)
    while i < left_count and j < right_count:
        a_first, a_last = left[i]
        b_first, b_last = right[j]
        if a_last < b_first:
            i += 1
            if i < left_count and left[i][1] < b_first:
                i = _first_reaching(left, b_first, i + 1)
        elif b_last < a_first:
            j += 1
            if j < right_count and right[j][1] < a_first:
                j = _first_reaching(right, a_first, j + 1)
        else:
            yield (a_first if a_first > b_first else b_first), (a_last if a_last < b_last else b_last)
            if a_last < b_last:
                i += 1
            else:
                j += 1


def first_shared_span(left, right):
    """The first intersection of two merged span lists, or None (shared_spans' first answer)."""
    if len(left) == 1 and len(right) == 1:  # two networks, or a network and one range
        (a_first, a_last), (b_first, b_last) = left[0], right[0]
        if a_first <= b_last and b_first <= a_last:
            return (a_first if a_first > b_first else b_first), (a_last if a_last < b_last else b_last)
        return None
    return next(shared_spans(left, right), None)


def spans_hold(merged, value):
    """True when the integer address ``value`` lies in the merged spans."""
    index = bisect.bisect_right(merged, (value, float("inf"))) - 1
    return index >= 0 and merged[index][1] >= value


def span_text(first, last, version=4):
    """``first-last`` (always both ends), as format_range writes a range."""
    return "%s-%s" % (format_address(first, version), format_address(last, version))


def span_cidrs(first, last, bits=_IPV4_BITS):
    """The minimal ``(network, prefix)`` blocks covering ``first``..``last``.

    Each block is the largest one that starts at ``first`` (its alignment: the lowest set
    bit) and fits in what is left (the highest power of two not above it).
    """
    blocks = []
    while first <= last:
        size = 1 << (last - first + 1).bit_length() - 1
        if first and first & -first < size:
            size = first & -first
        blocks.append((first, bits + 1 - size.bit_length()))
        first += size
    return blocks


# The dotted-quad text of each octet, and the CIDR blocks covering a span within one /24 by its
# first and last octet (span_cidrs on the last octet alone gives the same blocks: a block is never
# larger than 256 addresses there, and a /24 starts aligned to any of them).
_OCTET = tuple(str(value) for value in range(256))
_BLOCKS_IN_24 = {}
_BLOCKS_IN_24_KEPT = 4096


def _blocks_in_24(low, high):
    """``("low/prefix", ...)``, the blocks of span_cidrs(low, high) for 0 <= low <= high <= 255."""
    key = low << 8 | high
    blocks = _BLOCKS_IN_24.get(key)
    if blocks is None:
        blocks = tuple("%d/%d" % (network, prefix) for network, prefix in span_cidrs(low, high))
        if len(_BLOCKS_IN_24) < _BLOCKS_IN_24_KEPT:
            _BLOCKS_IN_24[key] = blocks
    return blocks


def _summarize_within_24s(merged, packed, texts=None):
    """summarize_spans where every span lies within one /24: each text built in bulk.

    ``packed`` holds the spans' first and last addresses, four bytes each. The dotted quads of
    all first and last addresses come from one format operation over those octets (or are
    ``texts``, the spans' span_text, where the caller has them), and each span's CIDR blocks from
    the table by its first and last octet.
    """
    count = len(merged)
    if texts is None:
        ranges = ("%d.%d.%d.%d-%d.%d.%d.%d\n" * count % tuple(packed)).split("\n")
        ranges.pop()
    else:
        ranges = list(texts)
    heads = bytearray(3 * count)  # a, b, c of each first address
    heads[0::3], heads[1::3], heads[2::3] = packed[0::8], packed[1::8], packed[2::8]
    heads = ("%d.%d.%d.\n" * count % tuple(heads)).split("\n")
    known = _BLOCKS_IN_24.get
    lows, highs = packed[3::8], packed[7::8]
    blocks = [known(low << 8 | high) or _blocks_in_24(low, high) for low, high in zip(lows, highs)]
    cidrs = [head + block for head, found in zip(heads, blocks) for block in found]
    total = sum(highs) - sum(lows) + count
    return {"ranges": ranges, "cidrs": cidrs, "count": total}


def summarize_spans(merged, texts=None):
    """summarize() of merged IPv4 spans: ``{ranges, cidrs, count}``.

    ``texts``, where given, are the spans' span_text (plain_ipv4_ranges' items), used as they are.
    The blocks are span_cidrs' (written out here: this runs for every range of a site).
    """
    if len(merged) > 4:
        packed = struct.pack(">%dI" % (2 * len(merged)), *itertools.chain.from_iterable(merged))
        # Every span within one /24: its first and last address share their first three octets.
        if packed[0::8] == packed[4::8] and packed[1::8] == packed[5::8] and packed[2::8] == packed[6::8]:
            return _summarize_within_24s(merged, packed, texts)
    ntoa, pack = socket.inet_ntoa, _IPV4.pack
    ranges, cidrs, count = [], [], 0
    add, extend, octet, known = cidrs.append, cidrs.extend, _OCTET, _BLOCKS_IN_24.get
    for first, last in merged:
        count += last - first + 1
        if first >> 8 == last >> 8:  # within one /24, addresses differ in the last octet only
            low, high = first & 255, last & 255
            head = ntoa(pack(first - low))[:-1]  # "a.b.c."
            ranges.append(head + octet[low] + "-" + head + octet[high])
            extend(map(head.__add__, known(low << 8 | high) or _blocks_in_24(low, high)))
            continue
        ranges.append("%s-%s" % (ntoa(pack(first)), ntoa(pack(last))))
        network = first
        while network <= last:
            size = 1 << (last - network + 1).bit_length() - 1
            if network and network & -network < size:
                size = network & -network
            add("%s/%d" % (ntoa(pack(network)), _IPV4_BITS + 1 - size.bit_length()))
            network += size
    return {"ranges": ranges, "cidrs": cidrs, "count": count}


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
    """Sorted, disjoint, coalesced ranges (adjacent ranges are joined); IPv4 before IPv6."""
    by_version = {}
    for item in ranges:
        by_version.setdefault(item.version, []).append((item.first, item.last))
    return [netaddr.IPRange(netaddr.IPAddress(first, version), netaddr.IPAddress(last, version))
            for version in sorted(by_version) for first, last in merge_spans(by_version[version])]


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
