"""compute_ip_probe as Ansible runs it, with the node's tools replaced by a fake segment.

``Segment`` plays the network: which addresses answer ARP (and with which MAC), which answer
ping, what ``ip neigh`` then holds. It answers the exact command lines the module runs, in the
output format of iputils 20221126 and iproute2, and records every call.
"""

import json
import threading

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgeops.k8s_network.plugins.module_utils import probe
from ansible_collections.edgeops.k8s_network.plugins.modules import compute_ip_probe

IFACE = "eth1"
LINK_UP = ("3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT "
           "group default qlen 1000\\    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\n")
LINK_DOWN = ("3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT "
             "group default qlen 1000\\    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\n")


def arping_reply(address, mac):
    return ("ARPING %s from 0.0.0.0 eth1\n"
            "Unicast reply from %s [%s]  0.557ms\n"
            "Sent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n" % (address, address, mac.upper()))


def arping_silence(address):
    return "ARPING %s from 0.0.0.0 eth1\nSent 1 probes (1 broadcast(s))\nReceived 0 response(s)\n" % address


def ping_reply(address):
    return ("PING {0} ({0}) from 192.168.10.5 eth1: 56(84) bytes of data.\n"
            "64 bytes from {0}: icmp_seq=1 ttl=64 time=0.467 ms\n\n"
            "--- {0} ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n"
            "rtt min/avg/max/mdev = 0.467/0.467/0.467/0.000 ms\n".format(address))


def ping_silence(address):
    return ("PING {0} ({0}) from 192.168.10.5 eth1: 56(84) bytes of data.\n\n"
            "--- {0} ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n"
            .format(address))


class Segment(object):
    def __init__(self, arp=None, icmp=None, neigh=None, link=LINK_UP, arping_version="arping from iputils 20221126"):
        self.arp = arp or {}          # address -> MAC answering ARP
        self.icmp = set(icmp or ())   # addresses answering ping
        self.neigh = neigh or {}      # address -> "ip neigh show" line
        self.link = link
        self.arping_version = arping_version
        self.overrides = {}           # (tool, address) -> (rc, out, err)
        self.calls = []
        self.environ = []
        self.lock = threading.Lock()

    def run_command(self, module, args, **kwargs):
        with self.lock:
            self.calls.append(list(args))
            self.environ.append(dict(module.run_command_environ_update or {}))
        tool = args[0].rsplit("/", 1)[-1]
        if tool == "arping" and args[1:] == ["-V"]:
            return 0, self.arping_version + "\n", ""
        if tool == "ip" and args[1:3] == ["-o", "link"]:
            if args[-1] != IFACE:
                return 1, "", 'Device "%s" does not exist.\n' % args[-1]
            return 0, self.link, ""
        address = args[-1] if tool != "ip" else args[3]
        if (tool, address) in self.overrides:
            return self.overrides[(tool, address)]
        if tool == "arping":
            if address in self.arp:
                return 1, arping_reply(address, self.arp[address]), ""
            return 0, arping_silence(address), ""
        if tool == "ping":
            if address in self.icmp:
                return 0, ping_reply(address), ""
            return 1, ping_silence(address), ""
        if tool == "ip" and args[1:3] == ["neigh", "show"]:
            return 0, self.neigh.get(address, ""), ""
        raise AssertionError("unexpected command %r" % (args,))

    def probed(self, tool):
        return [c[-1] for c in self.calls if c[0].endswith("/" + tool) and c[1:] != ["-V"]]


@pytest.fixture
def segment(monkeypatch):
    seg = Segment()
    missing = set()

    def get_bin_path(module, name, required=False, opt_dirs=None):
        return None if name in missing else "/usr/bin/%s" % name

    def run_command(module, args, **kwargs):
        return seg.run_command(module, args, **kwargs)

    monkeypatch.setattr(AnsibleModule, "get_bin_path", get_bin_path)
    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    seg.missing = missing
    return seg


def run(capsys, **args):
    args.setdefault("interface", IFACE)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            compute_ip_probe.main()
    return json.loads(capsys.readouterr().out)


def codes(result):
    return [f["code"] for f in result["findings"]]


# --- what the probe reports -------------------------------------------------------------------

def test_arp_and_icmp_answers_merged_per_address(capsys, segment):
    segment.arp = {"192.168.10.12": "f2:31:bb:3c:13:37"}
    segment.icmp = {"192.168.10.12"}
    result = run(capsys, addresses="192.168.10.11-192.168.10.14")
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert result["probed"] == 4
    assert result["in_use"] == [
        {"address": "192.168.10.12", "method": "arp", "methods": ["arp", "icmp"], "mac": "f2:31:bb:3c:13:37"},
    ]
    assert sorted(segment.probed("arping")) == ["192.168.10.11", "192.168.10.12", "192.168.10.13", "192.168.10.14"]


def test_icmp_only_answer_takes_mac_from_neighbour_table(capsys, segment):
    segment.icmp = {"192.168.10.13"}
    segment.neigh = {"192.168.10.13": "192.168.10.13 lladdr 0:1b:21:a:b:c REACHABLE \n"}
    result = run(capsys, addresses=["192.168.10.13"])
    assert result["in_use"] == [{"address": "192.168.10.13", "method": "icmp", "methods": ["icmp"],
                                 "mac": "00:1b:21:0a:0b:0c"}]


def test_icmp_answer_without_usable_neighbour_entry_has_no_mac(capsys, segment):
    segment.icmp = {"192.168.10.13", "192.168.10.14"}
    segment.neigh = {"192.168.10.13": "192.168.10.13 FAILED \n"}
    result = run(capsys, addresses=["192.168.10.13-192.168.10.14"], methods=["icmp"])
    assert [(e["address"], e["mac"]) for e in result["in_use"]] == [("192.168.10.13", None), ("192.168.10.14", None)]
    assert segment.probed("arping") == []


def test_method_order_follows_the_option(capsys, segment):
    segment.arp = {"10.0.0.5": "aa:bb:cc:dd:ee:ff"}
    segment.icmp = {"10.0.0.5"}
    segment.neigh = {"10.0.0.5": "10.0.0.5 lladdr aa:bb:cc:dd:ee:ff STALE\n"}
    result = run(capsys, addresses="10.0.0.5", methods=["icmp", "arp"])
    assert result["in_use"][0]["method"] == "icmp"
    assert result["in_use"][0]["methods"] == ["icmp", "arp"]
    assert result["methods"] == ["icmp", "arp"]


def test_in_use_sorted_numerically_and_overlaps_probed_once(capsys, segment):
    segment.arp = {"10.0.0.10": "02:00:00:00:00:0a", "10.0.0.9": "02:00:00:00:00:09", "10.0.0.100": "02:00:00:00:00:64"}
    result = run(capsys, addresses=["10.0.0.100", "10.0.0.8-10.0.0.12, 10.0.0.9", "10.0.0.10"], methods="arp")
    assert [e["address"] for e in result["in_use"]] == ["10.0.0.9", "10.0.0.10", "10.0.0.100"]
    assert result["probed"] == 6
    assert sorted(segment.probed("arping")) == sorted(set(segment.probed("arping")))


def test_reply_for_another_address_does_not_count(capsys, segment):
    segment.overrides[("arping", "10.0.0.5")] = (1, arping_reply("10.0.0.6", "aa:bb:cc:dd:ee:ff"), "")
    result = run(capsys, addresses="10.0.0.5", methods="arp")
    assert result["failed"] is True
    assert codes(result) == ["probe_failed"]
    assert result["in_use"] == []


def test_cidr_skips_network_and_broadcast_but_not_on_31(capsys, segment):
    run(capsys, addresses="192.168.10.0/30", methods="arp")
    assert sorted(segment.probed("arping")) == ["192.168.10.1", "192.168.10.2"]
    segment.calls[:] = []
    run(capsys, addresses="192.168.10.0/31", methods="arp")
    assert sorted(segment.probed("arping")) == ["192.168.10.0", "192.168.10.1"]


def test_empty_addresses_probe_nothing(capsys, segment):
    result = run(capsys, addresses=[])
    assert not result.get("failed")
    assert result["probed"] == 0 and result["in_use"] == []
    assert segment.probed("arping") == [] and segment.probed("ping") == []


def test_check_mode_probes_too_and_changes_nothing(capsys, segment):
    segment.arp = {"10.0.0.5": "aa:bb:cc:dd:ee:ff"}
    result = run(capsys, addresses="10.0.0.5", _ansible_check_mode=True)
    assert result["changed"] is False
    assert [e["address"] for e in result["in_use"]] == ["10.0.0.5"]


# --- the commands it runs -----------------------------------------------------------------------

@pytest.mark.parametrize("timeout,arping_w,ping_w", [(1, "1", "1"), (0.3, "1", "0.3"), (1.5, "2", "1.5"), (3.0, "3", "3")])
def test_command_lines(capsys, segment, timeout, arping_w, ping_w):
    segment.icmp = {"10.0.0.5"}
    run(capsys, addresses="10.0.0.5", timeout=timeout)
    assert ["/usr/bin/arping", "-D", "-c", "1", "-w", arping_w, "-I", IFACE, "10.0.0.5"] in segment.calls
    assert ["/usr/bin/ping", "-c", "1", "-W", ping_w, "-I", IFACE, "10.0.0.5"] in segment.calls
    assert ["/usr/bin/ip", "neigh", "show", "10.0.0.5", "dev", IFACE] in segment.calls
    assert all(env.get("LC_ALL") == "C" for env in segment.environ)


# --- exclude and the bound ----------------------------------------------------------------------

def test_excluded_addresses_are_never_probed(capsys, segment):
    segment.arp = {"10.0.0.2": "aa:bb:cc:dd:ee:02", "10.0.0.3": "aa:bb:cc:dd:ee:03"}
    result = run(capsys, addresses="10.0.0.1-10.0.0.6", exclude=["10.0.0.2", "10.0.0.5-10.0.0.9"], methods="arp")
    assert result["probed"] == 3
    assert sorted(segment.probed("arping")) == ["10.0.0.1", "10.0.0.3", "10.0.0.4"]
    assert [e["address"] for e in result["in_use"]] == ["10.0.0.3"]


def test_too_many_addresses_fails_before_any_probe(capsys, segment, monkeypatch):
    def never(intervals):
        raise AssertionError("the ranges were expanded before the bound was checked")

    monkeypatch.setattr(probe, "addresses", never)
    result = run(capsys, addresses="10.0.0.0/8")
    assert result["failed"] is True
    assert codes(result) == ["too_many_addresses"]
    assert "16777214 addresses" in result["msg"] and "(256)" in result["msg"]
    assert segment.calls == []


def test_bound_counts_after_exclude(capsys, segment):
    over = run(capsys, addresses="10.0.0.1-10.0.0.5", max_addresses=4, methods="arp")
    assert codes(over) == ["too_many_addresses"]
    assert segment.probed("arping") == []
    fits = run(capsys, addresses="10.0.0.1-10.0.0.5", exclude="10.0.0.1", max_addresses=4, methods="arp")
    assert not fits.get("failed"), fits.get("msg")
    assert fits["probed"] == 4


# --- bad input: coded failures, never a traceback ----------------------------------------------

@pytest.mark.parametrize("value,code", [
    ("garbage", "invalid_address"),
    ("10.0.0.300", "invalid_address"),
    ("10.1", "invalid_address"),
    ("10.0.0.9-10.0.0.1", "range_reversed"),
    ("2001:db8::1", "ipv6_unsupported"),
    ("2001:db8::/64", "ipv6_unsupported"),
    ("10.0.0.1-2001:db8::1", "mixed_family"),
    ("10.0.0.5/24", "host_bits_set"),
    ("10.0.0.0/33", "invalid_address"),
    ("10.0.0.0/x", "invalid_address"),
    ("224.0.0.1", "address_not_unicast"),
    ("127.0.0.1", "address_not_unicast"),
    ("255.255.255.255", "address_not_unicast"),
    ("0.0.0.0/0", "address_not_unicast"),
    ("-", "invalid_address"),
])
def test_bad_address_fails_with_code(capsys, segment, value, code):
    result = run(capsys, addresses=value)
    assert result["failed"] is True
    assert codes(result) == [code]
    assert result["findings"][0]["field"] == "addresses"
    assert "[%s] addresses" % code in result["msg"]
    assert segment.calls == []


def test_every_problem_reported_at_once(capsys, segment):
    result = run(capsys, addresses=["garbage", "10.0.0.9-10.0.0.1"], exclude="fe80::1", timeout=0, concurrency=500)
    assert result["failed"] is True
    assert sorted(codes(result)) == ["invalid_address", "invalid_option", "invalid_option", "ipv6_unsupported",
                                     "range_reversed"]
    assert {f["field"] for f in result["findings"]} == {"addresses", "exclude", "timeout", "concurrency"}


@pytest.mark.parametrize("args,field", [
    ({"timeout": -1}, "timeout"),
    ({"timeout": 31}, "timeout"),
    ({"max_addresses": 0}, "max_addresses"),
    ({"max_addresses": 65537}, "max_addresses"),
    ({"concurrency": 0}, "concurrency"),
    ({"methods": []}, "methods"),
])
def test_invalid_options(capsys, segment, args, field):
    result = run(capsys, addresses="10.0.0.1", **args)
    assert codes(result) == ["invalid_option"]
    assert result["findings"][0]["field"] == field


@pytest.mark.parametrize("name", ["", "eth 1", "a/b", "averyveryverylongname", "-D"])
def test_impossible_interface_name(capsys, segment, name):
    result = run(capsys, addresses="10.0.0.1", interface=name)
    assert codes(result) == ["interface_missing"]
    assert segment.calls == []


def test_interface_option_required(capsys, segment):
    with patch_module_args({"addresses": "10.0.0.1"}):
        with pytest.raises(SystemExit):
            compute_ip_probe.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True
    assert "interface" in result["msg"]
    assert "Traceback" not in json.dumps(result)


def test_unknown_method_refused_by_argument_spec(capsys, segment):
    result = run(capsys, addresses="10.0.0.1", methods="tcp")
    assert result["failed"] is True
    assert "tcp" in result["msg"]
    assert segment.calls == []


# --- the node itself ------------------------------------------------------------------------------

def test_interface_absent_on_node(capsys, segment):
    result = run(capsys, addresses="10.0.0.1", interface="eth9")
    assert codes(result) == ["interface_missing"]
    assert "eth9 does not exist" in result["msg"]
    assert segment.probed("arping") == []


def test_interface_down(capsys, segment):
    segment.link = LINK_DOWN
    result = run(capsys, addresses="10.0.0.1")
    assert codes(result) == ["interface_down"]
    assert segment.probed("arping") == []


@pytest.mark.parametrize("tool,package,methods", [("arping", "iputils-arping", ["arp"]),
                                                  ("ping", "iputils-ping", ["icmp"]),
                                                  ("ip", "iproute2", ["arp"])])
def test_missing_tool_names_its_package(capsys, segment, tool, package, methods):
    segment.missing.add(tool)
    result = run(capsys, addresses="10.0.0.1", methods=methods)
    assert codes(result) == ["tool_missing"]
    assert package in result["msg"]
    assert segment.probed("arping") == [] and segment.probed("ping") == []


def test_tool_of_an_unused_method_is_not_needed(capsys, segment):
    segment.missing.add("arping")
    result = run(capsys, addresses="10.0.0.1", methods="icmp")
    assert not result.get("failed"), result.get("msg")
    assert result["probed"] == 1


def test_foreign_arping_refused(capsys, segment):
    segment.arping_version = "ARPing 2.23, by Thomas Habets <thomas@habets.se>"
    result = run(capsys, addresses="10.0.0.1", methods="arp")
    assert codes(result) == ["tool_missing"]
    assert "iputils-arping" in result["msg"]


@pytest.mark.parametrize("tool,outcome,shown", [
    ("arping", (2, "", "arping: Device eth1 not available.\n"), "Device eth1 not available"),
    ("arping", (1, "", "arping: invalid argument: '0.5'\n"), "invalid argument"),
    ("ping", (2, "", "ping: connect: Network is unreachable\n"), "Network is unreachable"),
    ("ping", (127, "", "[Errno 13] Permission denied: '/usr/bin/ping'"), "Permission denied"),
])
def test_probe_that_cannot_run_fails_instead_of_reporting_free(capsys, segment, tool, outcome, shown):
    segment.overrides[(tool, "10.0.0.2")] = outcome
    segment.arp = {"10.0.0.3": "aa:bb:cc:dd:ee:03"}
    result = run(capsys, addresses="10.0.0.1-10.0.0.3")
    assert result["failed"] is True
    assert codes(result) == ["probe_failed"]
    assert shown in result["msg"] and "10.0.0.2" in result["msg"]
    assert [e["address"] for e in result["in_use"]] == ["10.0.0.3"]


def test_many_failures_are_summarised(capsys, segment):
    for last in range(1, 11):
        segment.overrides[("arping", "10.0.0.%d" % last)] = (2, "", "arping: socket: Operation not permitted\n")
    result = run(capsys, addresses="10.0.0.1-10.0.0.10", methods="arp")
    assert "10 probe(s) could not run" in result["msg"]
    assert "(and 5 more)" in result["msg"]


# --- parsers ---------------------------------------------------------------------------------------

def test_arping_reply_parser():
    out = arping_reply("192.0.2.50", "F2:31:BB:3C:13:37")
    assert probe.arping_reply(out, "192.0.2.50") == "f2:31:bb:3c:13:37"
    assert probe.arping_reply(out, "192.0.2.5") is None
    assert probe.arping_reply(arping_silence("192.0.2.50"), "192.0.2.50") is None
    assert probe.arping_reply("Broadcast reply from 10.0.0.1 [0:1:2:3:4:5]  1.0ms", "10.0.0.1") == "00:01:02:03:04:05"


@pytest.mark.parametrize("line,mac", [
    ("10.0.0.5 lladdr aa:bb:cc:dd:ee:ff REACHABLE", "aa:bb:cc:dd:ee:ff"),
    ("10.0.0.5 lladdr aa:bb:cc:dd:ee:ff STALE", "aa:bb:cc:dd:ee:ff"),
    ("10.0.0.5 lladdr AA:BB:CC:DD:EE:FF DELAY", "aa:bb:cc:dd:ee:ff"),
    ("10.0.0.5 lladdr aa:bb:cc:dd:ee:ff PERMANENT", "aa:bb:cc:dd:ee:ff"),
    ("10.0.0.5 INCOMPLETE", None),
    ("10.0.0.5 lladdr aa:bb:cc:dd:ee:ff FAILED", None),
    ("", None),
])
def test_neighbour_parser(line, mac):
    assert probe.neighbour_mac(line) == mac


def test_interval_algebra():
    assert probe.merge([(5, 9), (1, 3), (4, 4), (20, 21)]) == [(1, 9), (20, 21)]
    assert probe.subtract([(1, 10)], [(0, 1), (4, 5), (10, 12)]) == [(2, 3), (6, 9)]
    assert probe.subtract([(1, 3), (7, 9)], [(2, 8)]) == [(1, 1), (9, 9)]
    assert probe.count([(1, 3), (7, 9)]) == 6
    assert list(probe.addresses([(167772161, 167772162)])) == ["10.0.0.1", "10.0.0.2"]
