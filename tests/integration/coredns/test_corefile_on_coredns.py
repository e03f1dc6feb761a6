# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendered Corefiles on a real CoreDNS: which block answers a name, and what the hosts plugin serves.

The CoreDNS binary comes from EDGEOPS_COREDNS, else the cluster bench's cache (the version of
tests/cluster/versions.env, which ``make cluster-build`` builds there; with ``CI=true`` the first
test builds it when it is missing), else ``coredns`` on PATH. Without one the tests skip and say
so (with ``CI=true`` they fail).

CoreDNS listens on 127.0.0.1 only, and every query goes there. The Corefile is the one
coredns_config renders, with three changes the test needs and nothing else: the kubernetes
plugin goes (there is no API server), the port is a free one, and the site's DNS servers are a
second server block of the same CoreDNS that answers every query with ``whoami`` (NOERROR and no
answer record), so that an answer record can only come from the hosts plugin.
"""

import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time

import pytest

from ansible_collections.edgeops.k8s_network.plugins.module_utils import coredns

LIVE = """.:53 {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
}
"""
SITE_DNS = "192.0.2.53"
HOSTS = [{"ip": "10.20.1.10", "names": ["plc-01.site.example", "plc.lan"]}]


BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "cluster")
sys.path.insert(0, BENCH)
import build  # noqa: E402 pylint: disable=wrong-import-position,wrong-import-order
sys.path.remove(BENCH)

IN_CI = os.environ.get("CI", "").lower() == "true"


def coredns_binary():
    """EDGEOPS_COREDNS, else the bench cache's CoreDNS at the pinned version, else PATH's."""
    explicit = os.environ.get("EDGEOPS_COREDNS")
    if explicit:
        return explicit
    cached = build.binary_paths(build.read_versions())["coredns"]
    if os.access(cached, os.X_OK):
        return cached
    return shutil.which("coredns")


@pytest.fixture(scope="module")
def binary():
    found = coredns_binary()
    if found:
        return found
    if IN_CI:
        # CI proves these on every run: build the pinned CoreDNS into the bench cache (the
        # cluster suite needs it there anyway), with progress on stderr.
        try:
            return build.build(build.read_versions(), only=("coredns",),
                               log=lambda line: sys.stderr.write(line + "\n"))["coredns"]
        except build.BenchError as err:
            pytest.fail("no CoreDNS binary in CI: %s" % err, pytrace=False)
    pytest.skip("no CoreDNS binary: `make cluster-build` builds the pinned one into the bench cache"
                " (or set EDGEOPS_COREDNS)")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def for_the_test(corefile, port, upstream_port):
    """The rendered Corefile, runnable here: no kubernetes plugin, our ports, the stand-in site DNS."""
    text = re.sub(r"\n *kubernetes [^\n]*\{\n(?: *[^\n}]*\n)*? *\}", "", corefile)
    text = text.replace(":53 {", ":%d {" % port)
    text = text.replace(SITE_DNS, "127.0.0.1:%d" % upstream_port)
    return text + "\n.:%d {\n    whoami\n}\n" % upstream_port


def query_a(port, name):
    """A records CoreDNS on 127.0.0.1:port gives for ``name`` (a minimal DNS client, one UDP query)."""
    ident = 0x1515
    question = b"".join(struct.pack("B", len(label)) + label.encode() for label in name.rstrip(".").split("."))
    packet = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + b"\x00" + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(2)
        client.sendto(packet, ("127.0.0.1", port))
        reply = client.recv(4096)
    answer_id, flags, qdcount, ancount = struct.unpack(">HHHH", reply[:8])
    assert answer_id == ident
    offset = 12
    for _question in range(qdcount):
        while reply[offset]:
            offset += reply[offset] + 1
        offset += 5
    addresses = []
    for _record in range(ancount):
        if reply[offset] & 0xC0 == 0xC0:
            offset += 2
        else:
            while reply[offset]:
                offset += reply[offset] + 1
            offset += 1
        rtype, _rclass, _ttl, length = struct.unpack(">HHIH", reply[offset:offset + 10])
        offset += 10
        if rtype == 1:
            addresses.append(socket.inet_ntoa(reply[offset:offset + length]))
        offset += length
    return flags & 0x000F, addresses


@pytest.fixture
def serve(tmp_path, binary):
    """Start CoreDNS on a Corefile (rendered text); return its port. Stopped at teardown."""
    processes = []

    def start(corefile):
        port, upstream = free_port(), free_port()
        path = tmp_path / ("Corefile-%d" % len(processes))
        path.write_text(for_the_test(corefile, port, upstream))
        log = open(str(path) + ".log", "w")
        process = subprocess.Popen([binary, "-conf", str(path)], stdout=log, stderr=subprocess.STDOUT,
                                   cwd=str(tmp_path))
        processes.append((process, log))
        deadline = time.time() + 20
        while True:
            try:
                query_a(upstream, "ready.test")
                return port
            except (socket.timeout, ConnectionRefusedError, OSError):
                if process.poll() is not None or time.time() > deadline:
                    raise AssertionError("CoreDNS did not start:\n" + open(str(path) + ".log").read())
                time.sleep(0.2)

    yield start
    for process, log in processes:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def rendered():
    text, findings = coredns.merge(LIVE, forwarders=[SITE_DNS], stub_domains={"site.example": [SITE_DNS]},
                                   hosts=HOSTS)
    assert [f for f in findings if f["severity"] == "error"] == []
    return text


def test_a_name_in_a_stub_zone_is_answered_by_the_stub_block(serve):
    port = serve(rendered())
    assert query_a(port, "plc-01.site.example") == (0, ["10.20.1.10"])
    assert query_a(port, "plc.lan") == (0, ["10.20.1.10"])
    # A name of the zone that no entry lists still goes to the site's DNS.
    assert query_a(port, "other.site.example") == (0, [])


def test_the_same_entry_only_in_the_root_block_is_never_answered(serve):
    # What the collection rendered before: the stub block without the entry.
    text = rendered()
    stub = text.index("\nsite.example:53 {")
    without = text[:stub] + re.sub(r"\n *# managed by edgeops.k8s_network\n *hosts [^{]*\{[^}]*\}", "", text[stub:])
    assert "plc-01.site.example" not in without[stub:]
    port = serve(without)
    assert query_a(port, "plc-01.site.example") == (0, [])
    assert query_a(port, "plc.lan") == (0, ["10.20.1.10"])


def test_only_the_site_s_entries_are_served(serve):
    port = serve(rendered())
    # localhost is in this machine's /etc/hosts (and in every pod's): not served from /dev/null.
    assert query_a(port, "localhost") == (0, [])


def test_without_a_file_the_hosts_plugin_serves_etc_hosts(serve):
    with open("/etc/hosts") as handle:
        if not re.search(r"^127\.0\.0\.1\s+(.*\s)?localhost(\s|$)", handle.read(), re.MULTILINE):
            pytest.skip("this machine's /etc/hosts has no 127.0.0.1 localhost line to show it with")
    port = serve(rendered().replace("hosts /dev/null {", "hosts {"))
    assert query_a(port, "localhost") == (0, ["127.0.0.1"])
