"""compute_ip_probe for real: ARP and ICMP between two network namespaces.

A prober namespace and a squatter namespace share a veth pair on 192.0.2.0/24 (TEST-NET-1),
with addresses this test assigns. The module runs inside the prober namespace exactly as
Ansible would start it (a JSON file of ANSIBLE_MODULE_ARGS) and must find the squatter, with
the MAC of its veth, and nobody else. Probes go only to addresses inside these namespaces.

Needs root, iproute2, and iputils arping and ping; skipped otherwise.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from ansible_collections.edgeops.k8s_network.plugins.module_utils import probe

# Wherever the collection was imported from (a checkout linked into .build/collections, or
# ansible-test's tree), run the module from there and give it the same import path.
COLLECTION_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(probe.__file__))))
MODULE = os.path.join(COLLECTION_DIR, "plugins", "modules", "compute_ip_probe.py")
# The directory holding ansible_collections/, for the module's own imports.
COLLECTIONS_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(COLLECTION_DIR)))

PROBER_ADDRESS = "192.0.2.1/24"
SQUATTER_ADDRESS = "192.0.2.50/24"
SQUATTER_IP = "192.0.2.50"
PROBED = "192.0.2.48-192.0.2.52"
FREE = ["192.0.2.48", "192.0.2.49", "192.0.2.51", "192.0.2.52"]


def _missing():
    if not sys.platform.startswith("linux"):
        return "needs Linux network namespaces"
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("ip", "arping", "ping"):
        if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
            return "needs %s (iproute2 / iputils-arping / iputils-ping)" % tool
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), check=check, capture_output=True, text=True)


def _teardown(namespaces):
    for ns in namespaces:
        listed = ip("netns", "pids", ns, check=False)
        for pid in listed.stdout.split():
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        ip("netns", "delete", ns, check=False)


@pytest.fixture
def segment():
    """Two namespaces joined by a veth; yields names and the squatter's MAC."""
    tag = "eo-probe-%d" % os.getpid()
    prober, squatter = tag + "-p", tag + "-s"
    # Interface names are limited to 15 characters; the pid keeps parallel runs apart.
    prober_if, squatter_if = "eop%d" % os.getpid(), "eos%d" % os.getpid()
    created = []
    try:
        for ns in (prober, squatter):
            ip("netns", "add", ns)
            created.append(ns)
        ip("link", "add", prober_if, "netns", prober, "type", "veth", "peer", "name", squatter_if, "netns", squatter)
        ip("-n", prober, "addr", "add", PROBER_ADDRESS, "dev", prober_if)
        ip("-n", squatter, "addr", "add", SQUATTER_ADDRESS, "dev", squatter_if)
        for ns, dev in ((prober, prober_if), (squatter, squatter_if), (prober, "lo"), (squatter, "lo")):
            ip("-n", ns, "link", "set", dev, "up")
        link = json.loads(ip("-n", squatter, "-j", "link", "show", "dev", squatter_if).stdout)
        mac = link[0]["address"].lower()
        _wait_until_up(prober, prober_if)
        yield {"prober": prober, "interface": prober_if, "squatter_mac": mac}
    finally:
        _teardown(created)


def _wait_until_up(ns, dev):
    # A fresh veth reports LOWER_UP a moment after "link set up"; probing earlier loses packets.
    for dummy in range(50):
        if "LOWER_UP" in ip("-n", ns, "-o", "link", "show", "dev", dev).stdout:
            return
        time.sleep(0.1)
    raise AssertionError("%s in %s never came up" % (dev, ns))


def run_module(ns, args, tmp_path):
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=COLLECTIONS_ROOT)
    done = subprocess.run(["ip", "netns", "exec", ns, sys.executable, MODULE, str(args_file)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("methods", [["arp", "icmp"], ["arp"], ["icmp"]])
def test_squatter_found_with_its_mac(segment, tmp_path, methods):
    result = run_module(segment["prober"], {
        "interface": segment["interface"],
        "addresses": PROBED,
        "methods": methods,
        "timeout": 1,
    }, tmp_path)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert result["probed"] == 5
    assert result["in_use"] == [{
        "address": SQUATTER_IP,
        "method": methods[0],
        "methods": methods,
        "mac": segment["squatter_mac"],
    }]
    reported = {entry["address"] for entry in result["in_use"]}
    assert not reported & set(FREE)


def test_excluded_squatter_is_not_probed(segment, tmp_path):
    result = run_module(segment["prober"], {
        "interface": segment["interface"],
        "addresses": [PROBED],
        "exclude": [SQUATTER_IP],
        "methods": ["arp"],
        "_ansible_check_mode": True,
    }, tmp_path)
    assert not result.get("failed"), result.get("msg")
    assert result["probed"] == 4
    assert result["in_use"] == []


def test_missing_interface_fails_with_code(segment, tmp_path):
    result = run_module(segment["prober"], {
        "interface": "eo-nosuch0",
        "addresses": PROBED,
    }, tmp_path)
    assert result["failed"] is True
    assert [f["code"] for f in result["findings"]] == ["interface_missing"]


def test_down_interface_fails_instead_of_reporting_free(segment, tmp_path):
    ip("-n", segment["prober"], "link", "set", segment["interface"], "down")
    result = run_module(segment["prober"], {
        "interface": segment["interface"],
        "addresses": PROBED,
    }, tmp_path)
    assert result["failed"] is True
    assert [f["code"] for f in result["findings"]] == ["interface_down"]
