"""The address algebra of plugins/module_utils/ipranges.py.

Unit tests of each function, then property tests (hypothesis) that compare the range arithmetic,
and the filters built on it, with a brute-force oracle that expands small IPv4 ranges into sets of
integers.
"""

import time

import netaddr
import pytest
from hypothesis import example, given, settings, strategies as st

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges
from ansible_collections.edgeops.k8s_network.plugins.filter.ip_range_cidrs import ip_range_cidrs
from ansible_collections.edgeops.k8s_network.plugins.filter.ip_range_contains import ip_range_contains
from ansible_collections.edgeops.k8s_network.plugins.filter.ip_range_size import ip_range_size
from ansible_collections.edgeops.k8s_network.plugins.filter.ip_ranges_overlap import ip_ranges_overlap


def rng(first, last):
    return netaddr.IPRange(first, last)


def code_of(call, *args, **kwargs):
    with pytest.raises(ipranges.AddressError) as info:
        call(*args, **kwargs)
    return info.value.code


# ---------------------------------------------------------------------------
# split_list
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (None, []),
    ("", []),
    ("  ", []),
    ("10.0.0.1", ["10.0.0.1"]),
    ("10.0.0.1, 10.0.0.2 ,,10.0.0.3,", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
    (["10.0.0.1", "10.0.0.2,10.0.0.3"], ["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
    (("10.0.0.0/30", None, " "), ["10.0.0.0/30"]),
    ([], []),
])
def test_split_list(value, expected):
    assert ipranges.split_list(value) == expected


def test_split_list_turns_scalars_into_text_so_they_fail_to_parse_later():
    assert ipranges.split_list(42) == ["42"]
    assert code_of(ipranges.as_ranges, 42) == "invalid_address"


# ---------------------------------------------------------------------------
# Parsing: forms and codes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, first, last", [
    ("192.168.10.20-192.168.10.29", "192.168.10.20", "192.168.10.29"),
    (" 192.168.10.20 - 192.168.10.29 ", "192.168.10.20", "192.168.10.29"),
    ("192.168.10.7-192.168.10.7", "192.168.10.7", "192.168.10.7"),
    ("10.0.0.0/8", "10.0.0.0", "10.255.255.255"),
    ("10.0.0.4/30", "10.0.0.4", "10.0.0.7"),
    ("0.0.0.0/0", "0.0.0.0", "255.255.255.255"),
    ("192.168.10.7", "192.168.10.7", "192.168.10.7"),
    ("2001:db8::1-2001:db8::ff", "2001:db8::1", "2001:db8::ff"),
    ("2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff"),
    ("::1", "::1", "::1"),
    ("::1/128", "::1", "::1"),
    ("::/120", "::", "::ff"),
])
def test_parse_range_forms(text, first, last):
    assert ipranges.parse_range(text) == rng(first, last)


@pytest.mark.parametrize("text", [
    "", "10.1", "999.1.1.1", "010.0.0.1", "0x0a000001", "1.2.3.4-", "-1.2.3.4", "host.example",
    "10.0.0.0/33", "10.0.0.0/", "/24", "10.0.0.0/x", "2001:db8::/129", "1.2.3.4 5", "fe80::1%eth0",
    "10.0.0.1-10.0.0.2-10.0.0.3",
])
def test_invalid_address(text):
    assert code_of(ipranges.parse_range, text) == "invalid_address"


@pytest.mark.parametrize("text", ["10.0.0.9-10.0.0.1", "2001:db8::2-2001:db8::1"])
def test_range_reversed(text):
    assert code_of(ipranges.parse_range, text) == "range_reversed"


@pytest.mark.parametrize("text", ["10.0.0.1-2001:db8::1", "::1-10.0.0.1"])
def test_mixed_family(text):
    assert code_of(ipranges.parse_range, text) == "mixed_family"


@pytest.mark.parametrize("text", ["10.0.0.5/24", "10.96.0.1/12", "2001:db8::1/64"])
def test_host_bits_set_where_a_network_is_required(text):
    assert code_of(ipranges.parse_network, text) == "host_bits_set"
    assert code_of(ipranges.parse_range, text) == "host_bits_set"


@pytest.mark.parametrize("text", ["::1/128", "::/120", "::-::ff", "::5"])
def test_low_ipv6_stays_ipv6(text):
    # Their integers are below 2**32: built from integers alone they would read as IPv4.
    parsed = ipranges.parse_range(text)
    assert parsed.version == 6
    assert ipranges.as_ranges(text)[0].version == 6
    assert ipranges.merge_ranges([parsed, ipranges.parse_range("0.0.0.0/24")])[-1].version == 6
    assert ipranges.range_to_cidrs(parsed)[0].startswith("::")
    assert ipranges.summarize([parsed])["ranges"][0].startswith("::")


def test_low_ipv6_netaddr_network_stays_ipv6():
    assert ipranges.as_ranges(netaddr.IPNetwork("::1/128"))[0].version == 6


def test_host_bits_allowed_when_not_required():
    assert ipranges.parse_network("10.0.0.5/24", require_network=False).cidr == netaddr.IPNetwork("10.0.0.0/24")
    assert ipranges.parse_range("10.0.0.5/24", require_network=False) == rng("10.0.0.0", "10.0.0.255")
    assert ipranges.as_ranges("10.0.0.5/24") == [rng("10.0.0.0", "10.0.0.255")]


def test_parse_network_needs_a_prefix():
    assert code_of(ipranges.parse_network, "10.0.0.0") == "invalid_address"


@pytest.mark.parametrize("text", ["10.0.0.0/2_4", "10.0.0.0/+8", "10.0.0.0/ 24"])
def test_prefix_must_be_plain_digits(text):
    assert code_of(ipranges.parse_network, text) == "invalid_address"


def test_parse_ranges_collects_every_error_with_its_item():
    ranges, errors = ipranges.parse_ranges("10.0.0.1, 10.1, 10.0.0.9-10.0.0.1, 10.0.0.5/24, 10.0.0.0/30")
    assert ranges == [rng("10.0.0.1", "10.0.0.1"), rng("10.0.0.0", "10.0.0.3")]
    assert [(item, error.code) for item, error in errors] == [
        ("10.1", "invalid_address"),
        ("10.0.0.9-10.0.0.1", "range_reversed"),
        ("10.0.0.5/24", "host_bits_set"),
    ]


def test_as_ranges_accepts_netaddr_objects_and_text():
    assert ipranges.as_ranges(rng("10.0.0.1", "10.0.0.2")) == [rng("10.0.0.1", "10.0.0.2")]
    assert ipranges.as_ranges(netaddr.IPNetwork("10.0.0.0/30")) == [rng("10.0.0.0", "10.0.0.3")]
    assert ipranges.as_ranges(netaddr.IPAddress("10.0.0.1")) == [rng("10.0.0.1", "10.0.0.1")]
    assert ipranges.as_ranges([netaddr.IPAddress("10.0.0.1"), netaddr.IPNetwork("10.0.0.8/31")]) == [
        rng("10.0.0.1", "10.0.0.1"), rng("10.0.0.8", "10.0.0.9")]
    assert ipranges.as_ranges(["10.0.0.1", "10.0.0.8/31,::1"]) == [
        rng("10.0.0.1", "10.0.0.1"), rng("10.0.0.8", "10.0.0.9"), rng("::1", "::1")]
    assert ipranges.as_ranges(None) == []


def test_as_ranges_raises_the_first_error():
    assert code_of(ipranges.as_ranges, "10.0.0.1, 10.0.0.9-10.0.0.1, 10.1") == "range_reversed"


# ---------------------------------------------------------------------------
# Size, containment, overlap
# ---------------------------------------------------------------------------

def test_range_size_counts_shared_addresses_once():
    assert ipranges.range_size(ipranges.as_ranges("10.0.0.0/30, 10.0.0.2-10.0.0.5, 10.0.0.9")) == 7
    assert ipranges.range_size(rng("10.0.0.1", "10.0.0.1")) == 1
    assert ipranges.range_size([]) == 0


def test_a_slash_8_costs_what_a_slash_30_costs():
    started = time.perf_counter()
    assert ipranges.range_size(ipranges.as_ranges("10.0.0.0/8")) == 2 ** 24
    assert ipranges.range_to_cidrs(ipranges.as_ranges("10.0.0.0/8")) == ["10.0.0.0/8"]
    assert ipranges.range_size(ipranges.as_ranges("2001:db8::/32")) == 2 ** 96
    assert ipranges.contains_all(ipranges.as_ranges("0.0.0.0/0"), rng("0.0.0.0", "255.255.255.255"))
    assert time.perf_counter() - started < 1.0


def test_overlaps_any_kind():
    outer = rng("10.0.0.0", "10.0.0.255")
    assert ipranges.overlaps(outer, rng("10.0.0.10", "10.0.0.20"))      # inside
    assert ipranges.overlaps(rng("10.0.0.10", "10.0.0.20"), outer)      # around
    assert ipranges.overlaps(outer, rng("10.0.0.200", "10.0.1.5"))      # partial
    assert ipranges.overlaps(outer, rng("10.0.0.255", "10.0.1.5"))      # touching at one address
    assert not ipranges.overlaps(outer, rng("10.0.1.0", "10.0.1.5"))    # adjacent
    assert not ipranges.overlaps(rng("0.0.0.1", "0.0.0.9"), rng("::1", "::9"))  # same integers, other family


def test_contains_and_contains_all():
    outer = rng("10.0.0.0", "10.0.0.255")
    assert ipranges.contains(outer, rng("10.0.0.0", "10.0.0.255"))
    assert not ipranges.contains(outer, rng("10.0.0.200", "10.0.1.5"))
    assert not ipranges.contains(rng("::", "::ffff"), rng("0.0.0.1", "0.0.0.2"))
    split = [rng("10.0.0.10", "10.0.0.19"), rng("10.0.0.0", "10.0.0.9")]
    assert ipranges.contains_all(split, rng("10.0.0.5", "10.0.0.15"))
    assert not ipranges.contains_all(split, rng("10.0.0.5", "10.0.0.20"))
    gap = [rng("10.0.0.0", "10.0.0.9"), rng("10.0.0.11", "10.0.0.19")]
    assert not ipranges.contains_all(gap, rng("10.0.0.5", "10.0.0.15"))
    assert not ipranges.contains_all([], rng("10.0.0.5", "10.0.0.5"))


def test_contains_address():
    ranges = ipranges.as_ranges("10.0.0.0/30, 2001:db8::1")
    assert ipranges.contains_address(ranges, netaddr.IPAddress("10.0.0.3"))
    assert not ipranges.contains_address(ranges, netaddr.IPAddress("10.0.0.4"))
    assert ipranges.contains_address(ranges, netaddr.IPAddress("2001:db8::1"))
    assert not ipranges.contains_address(ranges, netaddr.IPAddress("0.0.0.1").ipv6())


def test_intersection():
    assert ipranges.intersection(rng("10.0.0.0", "10.0.0.9"), rng("10.0.0.5", "10.0.0.20")) == rng("10.0.0.5", "10.0.0.9")
    assert ipranges.intersection(rng("10.0.0.0", "10.0.0.9"), rng("10.0.0.10", "10.0.0.20")) is None


# ---------------------------------------------------------------------------
# merge_ranges, range_to_cidrs, summarize, nth_host
# ---------------------------------------------------------------------------

def test_merge_ranges_sorts_joins_overlapping_and_adjacent_keeps_families_apart():
    merged = ipranges.merge_ranges([
        rng("::1", "::5"),
        rng("10.0.0.20", "10.0.0.29"),
        rng("10.0.0.0", "10.0.0.9"),
        rng("10.0.0.10", "10.0.0.12"),     # adjacent to the first
        rng("10.0.0.2", "10.0.0.4"),       # inside it
        rng("10.0.0.25", "10.0.0.40"),     # partial
        rng("0.0.0.0", "0.0.0.5"),         # same integers as the IPv6 one
    ])
    assert merged == [
        rng("0.0.0.0", "0.0.0.5"),
        rng("10.0.0.0", "10.0.0.12"),
        rng("10.0.0.20", "10.0.0.40"),
        rng("::1", "::5"),
    ]
    assert ipranges.merge_ranges([]) == []


def test_range_to_cidrs():
    assert ipranges.range_to_cidrs(ipranges.as_ranges("192.168.10.20-192.168.10.29")) == [
        "192.168.10.20/30", "192.168.10.24/30", "192.168.10.28/31"]
    assert ipranges.range_to_cidrs(ipranges.as_ranges("10.0.0.0/25, 10.0.0.128-10.0.0.255")) == ["10.0.0.0/24"]
    assert ipranges.range_to_cidrs(ipranges.as_ranges("0.0.0.0-255.255.255.255")) == ["0.0.0.0/0"]
    assert ipranges.range_to_cidrs(ipranges.as_ranges("2001:db8::1-2001:db8::6")) == [
        "2001:db8::1/128", "2001:db8::2/127", "2001:db8::4/127", "2001:db8::6/128"]
    assert ipranges.range_to_cidrs(rng("10.0.0.1", "10.0.0.1")) == ["10.0.0.1/32"]


def test_summarize():
    assert ipranges.summarize(ipranges.as_ranges("10.0.0.5-10.0.0.6, 10.0.0.1-10.0.0.4, ::1")) == {
        "ranges": ["10.0.0.1-10.0.0.6", "::1-::1"],
        "cidrs": ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32", "::1/128"],
        "count": 7,
    }
    assert ipranges.summarize([]) == {"ranges": [], "cidrs": [], "count": 0}


def test_format_range():
    assert ipranges.format_range(rng("10.0.0.1", "10.0.0.9")) == "10.0.0.1-10.0.0.9"


def test_nth_host():
    services = netaddr.IPNetwork("172.28.0.0/16")
    assert ipranges.nth_host(services, 1) == "172.28.0.1"
    assert ipranges.nth_host(services, 10) == "172.28.0.10"
    assert ipranges.nth_host(netaddr.IPNetwork("fd00:10:96::/112"), 10) == "fd00:10:96::a"


@pytest.mark.parametrize("cidr, index", [("10.96.0.0/29", 10), ("255.255.255.248/29", 10), ("10.96.0.0/24", -1)])
def test_nth_host_outside_the_network_is_an_address_error(cidr, index):
    with pytest.raises(ipranges.AddressError):
        ipranges.nth_host(netaddr.IPNetwork(cidr), index)


# ---------------------------------------------------------------------------
# Property tests against a brute-force oracle
# ---------------------------------------------------------------------------

# Small windows, so the oracle can expand them; they cross octet boundaries and touch both ends of
# the IPv4 space, where off-by-one errors would show.
WINDOWS = [0, int(netaddr.IPAddress("10.0.0.200")), int(netaddr.IPAddress("192.168.255.230")), 2 ** 32 - 300]
SPAN = 300


def _text(first, last, form):
    """One entry in one of the accepted textual forms; CIDR only when the range is one."""
    if form == "single" and first == last:
        return str(netaddr.IPAddress(first))
    if form == "cidr":
        cidrs = netaddr.iprange_to_cidrs(netaddr.IPAddress(first), netaddr.IPAddress(last))
        if len(cidrs) == 1:
            return str(cidrs[0])
    return "%s-%s" % (netaddr.IPAddress(first), netaddr.IPAddress(last))


@st.composite
def entry(draw, base):
    start = base + draw(st.integers(0, SPAN - 1))
    first, last = start, min(start + draw(st.integers(0, 40)), base + SPAN - 1)
    if draw(st.booleans()):
        block = 2 ** (32 - draw(st.integers(24, 32)))
        aligned = start - start % block
        if aligned >= base and aligned + block - 1 < base + SPAN:
            first, last = aligned, aligned + block - 1
    form = draw(st.sampled_from(["range", "cidr", "single"]))
    return (first, last, _text(first, last, form))


@st.composite
def address_set(draw, base=None):
    """(value as a user would type it, the set of integers it stands for)."""
    if base is None:
        base = draw(st.sampled_from(WINDOWS))
    entries = draw(st.lists(entry(base), min_size=1, max_size=4))
    texts = [item[2] for item in entries]
    value = ", ".join(texts) if draw(st.booleans()) else texts
    expanded = set()
    for first, last, dummy_text in entries:
        expanded.update(range(first, last + 1))
    return value, expanded, base


@st.composite
def near_edges(draw, a_set, base):
    """Entries whose ends sit on, or one off, addresses of ``a_set``, where off-by-one errors show."""
    edges = sorted(a_set)
    entries = []
    for dummy_index in range(draw(st.integers(1, 3))):
        first = draw(st.sampled_from(edges)) + draw(st.sampled_from([-1, 0, 1]))
        last = draw(st.sampled_from(edges)) + draw(st.sampled_from([-1, 0, 1]))
        first, last = sorted(min(max(end, base), base + SPAN - 1) for end in (first, last))
        entries.append((first, last, _text(first, last, draw(st.sampled_from(["range", "cidr", "single"])))))
    expanded = set()
    for first, last, dummy_text in entries:
        expanded.update(range(first, last + 1))
    return [item[2] for item in entries], expanded


@st.composite
def two_sets(draw):
    a_value, a_set, base = draw(address_set())
    if draw(st.booleans()):
        b_value, b_set = draw(near_edges(a_set, base))
    else:
        b_value, b_set = draw(address_set(base=base))[:2]
    return a_value, a_set, b_value, b_set


def _expand_cidrs(cidrs):
    result = set()
    for text in cidrs:
        network = netaddr.IPNetwork(text)
        result.update(range(network.first, network.last + 1))
    return result


def _minimal_cidr_count(addresses):
    """Greedy count of the fewest aligned blocks covering a set, computed from integers alone."""
    count = 0
    remaining = sorted(addresses)
    index = 0
    while index < len(remaining):
        start = remaining[index]
        end = start
        while index + 1 < len(remaining) and remaining[index + 1] == end + 1:
            index += 1
            end = remaining[index]
        index += 1
        position = start
        while position <= end:
            size = 1
            while position % (size * 2) == 0 and position + size * 2 - 1 <= end and size < 2 ** 32:
                size *= 2
            count += 1
            position += size
    return count


@settings(max_examples=300, deadline=None)
@given(address_set())
def test_size_matches_oracle(sample):
    value, expected = sample[:2]
    assert ipranges.range_size(ipranges.as_ranges(value)) == len(expected)
    assert ip_range_size(value) == len(expected)


@settings(max_examples=300, deadline=None)
@given(two_sets())
def test_contains_matches_oracle(sample):
    a_value, a_set, b_value, b_set = sample
    assert ip_range_contains(a_value, b_value) == (b_set <= a_set)
    assert ip_range_contains(b_value, a_value) == (a_set <= b_set)
    outers = ipranges.as_ranges(a_value)
    for inner in ipranges.as_ranges(b_value):
        inner_set = set(range(inner.first, inner.last + 1))
        assert ipranges.contains_all(outers, inner) == (inner_set <= a_set)


@settings(max_examples=300, deadline=None)
@given(two_sets())
def test_overlap_matches_oracle(sample):
    a_value, a_set, b_value, b_set = sample
    assert ip_ranges_overlap(a_value, b_value) == bool(a_set & b_set)
    assert ip_ranges_overlap(b_value, a_value) == bool(a_set & b_set)
    for a in ipranges.as_ranges(a_value):
        for b in ipranges.as_ranges(b_value):
            shared = set(range(a.first, a.last + 1)) & set(range(b.first, b.last + 1))
            assert ipranges.overlaps(a, b) == bool(shared)
            meet = ipranges.intersection(a, b)
            assert (set(range(meet.first, meet.last + 1)) if meet is not None else set()) == shared


@settings(max_examples=300, deadline=None)
@given(address_set())
def test_merge_ranges_matches_oracle(sample):
    value, expected = sample[:2]
    merged = ipranges.merge_ranges(ipranges.as_ranges(value))
    assert _expand_cidrs([str(c) for r in merged for c in r.cidrs()]) == expected
    for left, right in zip(merged, merged[1:]):
        assert left.last + 1 < right.first  # sorted, disjoint, and not even adjacent


@settings(max_examples=300, deadline=None)
@given(address_set())
def test_range_to_cidrs_is_exact_and_minimal(sample):
    value, expected = sample[:2]
    cidrs = ipranges.range_to_cidrs(ipranges.as_ranges(value))
    assert ip_range_cidrs(value) == cidrs
    networks = [netaddr.IPNetwork(text) for text in cidrs]
    assert all(str(n.cidr) == str(n) for n in networks)  # no host bits
    assert _expand_cidrs(cidrs) == expected
    assert sum(n.size for n in networks) == len(expected)  # no address twice
    # Minimal: no two blocks join into one (siblings under the same parent) ...
    present = set((n.first, n.prefixlen) for n in networks)
    for n in networks:
        if n.prefixlen == 0:
            continue
        sibling = n.first ^ (1 << (32 - n.prefixlen))
        assert (sibling, n.prefixlen) not in present
    # ... and no cover uses fewer blocks.
    assert len(cidrs) == _minimal_cidr_count(expected)
    assert [n.first for n in networks] == sorted(n.first for n in networks)


# ---------------------------------------------------------------------------
# The integer layer the check runs on: the same answers as the oracle and the netaddr layer
# ---------------------------------------------------------------------------

def _expand_spans(spans):
    result = set()
    for first, last in spans:
        result.update(range(first, last + 1))
    return result


def _spans(value):
    spans, errors = ipranges.parse_spans(value, require_network=False)
    assert errors == []
    assert all(version == 4 for version, dummy_first, dummy_last in spans)
    return [(first, last) for dummy_version, first, last in spans]


@settings(max_examples=300, deadline=None)
@given(address_set())
def test_spans_parse_merge_and_summarize_as_the_oracle_and_netaddr_do(sample):
    value, expected = sample[:2]
    spans = _spans(value)
    assert spans == [(r.first, r.last) for r in ipranges.as_ranges(value)]
    merged = ipranges.merge_spans(spans)
    assert _expand_spans(merged) == expected
    assert ipranges.spans_size(merged) == len(expected)
    for (dummy, left_last), (right_first, dummy_last) in zip(merged, merged[1:]):
        assert left_last + 1 < right_first  # sorted, disjoint, and not even adjacent
    # The netaddr layer's summary is proven exact and minimal above; the integer one must equal it.
    assert ipranges.summarize_spans(merged) == ipranges.summarize(ipranges.as_ranges(value))


@settings(max_examples=300, deadline=None)
@given(two_sets())
def test_shared_spans_and_membership_match_the_oracle(sample):
    a_value, a_set, b_value, b_set = sample
    a_spans, b_spans = ipranges.merge_spans(_spans(a_value)), ipranges.merge_spans(_spans(b_value))
    shared = list(ipranges.shared_spans(a_spans, b_spans))
    assert _expand_spans(shared) == a_set & b_set
    assert shared == ipranges.merge_spans(shared)  # in order, disjoint
    assert list(ipranges.shared_spans(b_spans, a_spans)) == shared  # the order of the lists does not matter
    for value in set(b_set) | set(x + 1 for x in b_set) | set(x - 1 for x in b_set):
        assert ipranges.spans_hold(a_spans, value) == (value in a_set)


def test_shared_spans_jump_over_what_cannot_meet():
    many = [(n * 10, n * 10 + 3) for n in range(1000)]
    assert list(ipranges.shared_spans([(5002, 5025)], many)) == [(5002, 5003), (5010, 5013), (5020, 5023)]
    assert list(ipranges.shared_spans(many, [(20000, 30000)])) == []
    assert list(ipranges.shared_spans(many, [(0, 0), (9993, 9999)])) == [(0, 0), (9993, 9993)]


# Texts near the accepted forms: dotted quads with leading zeros, short forms, IPv6, stray signs.
ADDRESS_TEXT = st.one_of(
    st.text(alphabet="0123456789.", min_size=1, max_size=16),
    st.text(alphabet="0123456789abcdef:.", min_size=1, max_size=20),
    st.builds(".".join, st.lists(st.sampled_from(["0", "00", "01", "1", "10", "255", "256", "099"]), min_size=3, max_size=5)),
    st.sampled_from(["", " ", "1.2.3.4 ", "::1", "::ffff:1.2.3.4", "1.2.3.4\x00", "\uff11.2.3.4", "+1.2.3.4"]),
)


def _outcome(call, *args):
    try:
        return call(*args)
    except ipranges.AddressError as error:
        return (error.code, error.message)


@settings(max_examples=500, deadline=None)
@given(ADDRESS_TEXT)
def test_address_value_reads_what_parse_address_reads(text):
    expected = _outcome(ipranges.parse_address, text)
    if isinstance(expected, netaddr.IPAddress):
        expected = (expected.version, int(expected))
        assert ipranges.format_address(expected[1], expected[0]) == str(ipranges.parse_address(text))
    assert _outcome(ipranges.address_value, text) == expected


@settings(max_examples=500, deadline=None)
@given(ADDRESS_TEXT, st.sampled_from(["/0", "/8", "/24", "/31", "/32", "/33", "/128", "/+8", "/2_4", "/ 24", "/", ""]),
       st.booleans())
def test_network_value_reads_what_parse_network_reads(address, prefix, require_network):
    text = address + prefix
    expected = _outcome(ipranges.parse_network, text, require_network)
    if isinstance(expected, netaddr.IPNetwork):
        expected = (expected.version, expected.first, expected.last, expected.prefixlen)
    assert _outcome(ipranges.network_value, text, require_network) == expected


@settings(max_examples=300, deadline=None)
@given(ADDRESS_TEXT, ADDRESS_TEXT, st.sampled_from(["-", " - ", "/24", ""]))
def test_span_of_reads_what_parse_range_reads(start, end, joint):
    text = start + joint + end if joint != "/24" else start + joint
    expected = _outcome(ipranges.parse_range, text)
    if isinstance(expected, netaddr.IPRange):
        expected = (expected.version, expected.first, expected.last)
    assert _outcome(ipranges.span_of, text) == expected


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(ADDRESS_TEXT, st.sampled_from(["-", " - ", "\t-\u00a0", "--", "- "]), ADDRESS_TEXT),
                max_size=4))
def test_parse_spans_reads_a_list_as_parse_ranges_does(items):
    value = [start + joint + end for start, joint, end in items]
    spans, errors = ipranges.parse_spans(value)
    ranges, expected_errors = ipranges.parse_ranges(value)
    assert spans == [(r.version, r.first, r.last) for r in ranges]
    assert [(item, e.code, e.message) for item, e in errors] == [(item, e.code, e.message) for item, e in expected_errors]


# plain_ipv4_ranges: a long list of ranges in canonical text, read at once. Items mostly canonical
# ranges near each other (sorted or not, adjacent, overlapping), some with the texts around them.
@st.composite
def long_range_list(draw):
    base = draw(st.sampled_from(WINDOWS))
    items = []
    for dummy_index in range(draw(st.sampled_from([1, 2, 4, 5, 12]))):
        first = base + draw(st.integers(0, SPAN - 1))
        last = min(first + draw(st.integers(0, 60)), 2 ** 32 - 1)
        if draw(st.integers(0, 9)) == 0:
            first, last = last, first
        items.append("%s-%s" % (netaddr.IPAddress(first), netaddr.IPAddress(last)))
    if draw(st.integers(0, 3)) == 0:
        index = draw(st.integers(0, len(items) - 1))
        start, joint, end = draw(ADDRESS_TEXT), draw(st.sampled_from(["-", " - ", "--", ""])), draw(ADDRESS_TEXT)
        items[index] = draw(st.sampled_from([start + joint + end, items[index] + ",", " " + items[index], ""]))
    return ",".join(items) if draw(st.booleans()) else items


@settings(max_examples=500, deadline=None)
@given(long_range_list())
@example(["::-::1:0:0"])  # an IPv6 range: not plain IPv4, read by parse_spans alone
def test_plain_ipv4_ranges_reads_what_parse_spans_reads(value):
    plain = ipranges.plain_ipv4_ranges(value)
    spans, errors = ipranges.parse_spans(value)
    items = ipranges.split_list(value)
    raw = (value if isinstance(value, str) else ",".join(value)).split(",")
    canonical = not errors and len(spans) == len(raw) and all(
        span[0] == 4 and part == ipranges.span_text(*span[1:]) for part, span in zip(raw, spans))
    if plain is None:
        assert not canonical  # every list of canonical ranges is read at once
        return
    pairs, texts, apart = plain
    assert canonical and errors == []
    assert pairs == [(first, last) for version, first, last in spans]
    assert texts == items
    merged = ipranges.merge_spans(pairs)
    assert apart == (merged == pairs)  # apart: the list is its own merge
    assert ipranges.summarize_spans(merged, texts if apart else None) == ipranges.summarize_spans(merged)


def test_plain_ipv4_ranges_takes_only_plain_lists():
    five = ["10.0.%d.1-10.0.%d.9" % (n, n) for n in range(5)]
    assert ipranges.plain_ipv4_ranges(five)[2] is True
    assert ipranges.plain_ipv4_ranges(",".join(five))[1] == five
    assert ipranges.plain_ipv4_ranges(five[:2]) == ([(167772161, 167772169), (167772417, 167772425)], five[:2], True)
    assert ipranges.plain_ipv4_ranges("10.0.0.1-10.0.0.1") == ([(167772161, 167772161)], ["10.0.0.1-10.0.0.1"], True)
    for value in ([], "", "10.0.0.1", " 10.0.0.1-10.0.0.2", "10.0.0.2-10.0.0.1", "10.0.0.1-10.0.0.256", "10.0.0.1/32",
                  five + [None], five + ["10.0.9.1"], five + ["10.0.9.1 -10.0.9.2"], five + ["10.0.9.9-10.0.9.1"],
                  five + ["10.0.09.1-10.0.9.2"], five + ["10.0.9.1-10.0.9.2-10.0.9.3", "10.0.9.4"], tuple(five)):
        assert ipranges.plain_ipv4_ranges(value) is None
    assert ipranges.plain_ipv4_ranges(five + ["10.0.4.10-10.0.4.12"])[2] is False  # adjacent to the last


@settings(max_examples=500, deadline=None)
@given(ADDRESS_TEXT)
def test_canonical_ipv4_reads_only_what_ipv4_text_writes(text):
    value = ipranges.canonical_ipv4(text)
    expected = _outcome(ipranges.address_value, text)
    written = isinstance(expected, tuple) and expected[0] == 4 and ipranges.ipv4_text(expected[1]) == text
    assert value == (expected[1] if written else None)


@settings(max_examples=500, deadline=None)
@given(ADDRESS_TEXT, st.sampled_from(["/0", "/8", "/08", "/24", "/31", "/32", "/33", "/+8", "/ 24", "/", ""]))
def test_canonical_ipv4_network_reads_only_what_network_value_writes(address, prefix):
    text = address + prefix
    value = ipranges.canonical_ipv4_network(text)
    expected = _outcome(ipranges.network_value, text, True)
    written = (isinstance(expected, tuple) and len(expected) == 4 and expected[0] == 4
               and "%s/%d" % (ipranges.ipv4_text(expected[1]), expected[3]) == text)
    assert value == (expected[1:] if written else None)


def test_canonical_ipv4_network_leaves_host_bits_to_network_value():
    assert ipranges.canonical_ipv4_network("10.0.0.0/8") == (167772160, 184549375, 8)
    assert ipranges.canonical_ipv4_network("10.0.0.1/8") is None
    assert code_of(ipranges.network_value, "10.0.0.1/8") == "host_bits_set"
