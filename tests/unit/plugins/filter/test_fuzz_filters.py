"""Fuzz every filter (issue 14): hostile values (wrong types, control characters, huge and deeply
nested inputs) give a result or an AnsibleFilterError whose message starts with a documented code;
never another exception, and each call within a bounded time."""

import glob
import os
import time

from ansible.errors import AnsibleFilterError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.edgeops.k8s_network.plugins.filter import (
    ip_range_cidrs as cidrs_plugin,
    ip_range_contains as contains_plugin,
    ip_range_size as size_plugin,
    ip_ranges_overlap as overlap_plugin,
    loadbalancer_ips as lb_plugin,
)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
BOUND_SECONDS = 5.0


def _documented_codes():
    codes = set()
    for doc in glob.glob(os.path.join(ROOT, "docs", "codes*.md")):
        with open(doc) as handle:
            codes.update(line.split("`")[1] for line in handle if line.startswith("| `"))
    return codes


CODES = _documented_codes()
TEXT = st.one_of(st.text(max_size=40), st.sampled_from([
    "", "\n", "\x00", "10.0.0.1\n", "10.0.0.1\x00", "::/0", "0.0.0.0/0", "10.0.0.5/24", "10.0.0.9-10.0.0.1",
    "1.2.3.4-::1", "10.0.0.0/8,10.1.0.0/16", "x" * 100000, "9" * 5000, "1e400", "10.0.0.0/+8",
]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 130), max_value=2 ** 130),
                    st.floats(allow_nan=True), TEXT)
VALUES = st.recursive(SCALARS, lambda c: st.one_of(st.lists(c, max_size=6), st.dictionaries(TEXT, c, max_size=6)),
                      max_leaves=25)


def deep(levels):
    value = "10.0.0.1"
    for _unused in range(levels):
        value = [value]
    return value


def call(function, *args, **kwargs):
    start = time.monotonic()
    try:
        function(*args, **kwargs)
    except AnsibleFilterError as error:
        code = str(error).split(":", 1)[0]
        assert code in CODES or "needs the Python library" in str(error), str(error)[:300]
    assert time.monotonic() - start < BOUND_SECONDS


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])


@FUZZ
@given(value=VALUES)
@example(value=["10.%d.%d.1" % (i // 256, i % 256) for i in range(20000)])
def test_one_argument_filters(value):
    for function in (size_plugin.ip_range_size, cidrs_plugin.ip_range_cidrs):
        call(function, value)


@FUZZ
@given(value=VALUES, other=VALUES)
@example(value=["10.%d.%d.1" % (i // 256, i % 256) for i in range(20000)], other="10.200.0.0/16")
def test_two_argument_filters(value, other):
    call(contains_plugin.ip_range_contains, value, other)
    call(overlap_plugin.ip_ranges_overlap, value, other)


@FUZZ
@given(value=VALUES, detail=VALUES)
@example(value={"resources": [{"metadata": "x", "status": "y"}]}, detail=True)
@example(value=[{"status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1\n"}] * 10000}}}], detail=False)
def test_loadbalancer_ips(value, detail):
    call(lb_plugin.loadbalancer_ips, value, detail=detail)


def test_deep_nesting_ends_in_a_code():
    """Outside hypothesis, which cannot print an example nested this deep."""
    for function in (size_plugin.ip_range_size, cidrs_plugin.ip_range_cidrs):
        call(function, deep(5000))
    call(contains_plugin.ip_range_contains, "10.0.0.0/8", deep(5000))
    call(overlap_plugin.ip_ranges_overlap, deep(5000), "10.0.0.0/8")
    call(lb_plugin.loadbalancer_ips, {"resources": [{"status": {"loadBalancer": {"ingress": deep(5000)}}}]})
    call(lb_plugin.loadbalancer_ips, {"metadata": deep(5000)}, detail=True)
