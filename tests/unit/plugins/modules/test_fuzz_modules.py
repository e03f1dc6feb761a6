"""Fuzz every module as Ansible runs it (issue 14): structured hostile values (wrong types, control
characters, huge and deeply nested inputs) in every option must end in a result Ansible can show:
success, coded findings whose codes docs/codes.md lists, or Ansible's own argument-spec refusal.
Never a Python exception, and each run within a bounded time.

The probe never sends anything here: its tools are reported missing, so a run that gets past the
option checks stops at ``tool_missing``.
"""

import glob
import json
import os
import re
import time

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.edgeops.k8s_network.plugins.modules import (
    calico_config, cluster_network_check, compute_ip_probe, compute_network_check, coredns_config, metallb_config,
    verify_config)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
# What one module run may take at most, on a loaded two-core machine.
BOUND_SECONDS = 5.0
# Ansible's argument spec refuses wrong types before any rule runs: those messages carry no code.
ARGSPEC_MESSAGES = ("argument ", "Value ", "dictionary requested", "list requested", "unable to evaluate",
                    "Unsupported parameters", "missing required arguments", "value of ",
                    "Elements value for option", "elements value for option", "parameters are mutually exclusive",
                    "missing parameter(s) required by", "one of the following is required")


def _documented_codes():
    codes = set()
    for doc in glob.glob(os.path.join(ROOT, "docs", "codes*.md")):
        with open(doc) as handle:
            codes.update(line.split("`")[1] for line in handle if line.startswith("| `"))
    return codes


CODES = _documented_codes()

HOSTILE_TEXT = st.sampled_from([
    "", " ", "\n", "\x00", "a\nb", "p\n", "x\r\n", "\u2028", "\x7f", "10.0.0.1\n", "10.0.0.1\x00", "::/0",
    "0.0.0.0/0", "255.255.255.255", "10.0.0.5/24", "10.0.0.9-10.0.0.1", "1.2.3.4-::1", "{", "}", "{$X}", "'\"",
    "$(id)", "`id`", "../../../etc/passwd", "/etc/resolv.conf\nimport x", "kube-system", "Kube System!",
    "cluster.local", "a" * 300, "x" * 100000, "-", ".", "..", "eth1", "eth1\x00", "*", "%s%n", "1e400",
    "9" * 5000, "true", "null", "[1, 2]", "{a: 1}", "---\nkind: Secret", "\ud800".encode("utf-8", "surrogatepass").decode(
        "utf-8", "replace"),
])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    # No infinity: ansible-core's own int check (check_type_int) raises OverflowError on it before
    # any code of this collection runs, and JSON cannot carry it from the controller anyway.
    st.floats(allow_nan=True, allow_infinity=False), st.text(max_size=40), HOSTILE_TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=6),
                               st.dictionaries(st.one_of(st.text(max_size=12), HOSTILE_TEXT), children, max_size=6)),
    max_leaves=25,
)


# Nesting deeper than this makes ansible-core's own JSON encoder of the module's result (it echoes
# the arguments back as `invocation`) exceed Python's recursion limit: not reachable through a
# playbook, whose controller encodes the arguments with the same encoder first.
DEPTH = 120


def deep(levels):
    value = "x"
    for _unused in range(levels):
        value = [value]
    return value


def _options(module, keys=None):
    spec = module.ARGUMENT_SPEC
    names = [k for k in spec if k not in ("dest", "release_manifest")] if keys is None else keys
    return st.fixed_dictionaries({}, optional=dict((name, VALUES) for name in names))


def run(capsys, module, args):
    # CPU time, not wall time: the module runs in this process, and a loaded CI machine must not
    # turn a slow neighbour into a failure here.
    start = time.process_time()
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    elapsed = time.process_time() - start
    out = capsys.readouterr().out
    result = json.loads(out)
    assert elapsed < BOUND_SECONDS, "%s took %.1f s of CPU on %.300r" % (module.__name__, elapsed, args)
    assert "exception" not in result, result.get("exception")
    assert "Traceback" not in out
    if result.get("failed"):
        msg = result.get("msg", "")
        if result.get("findings"):
            codes = set(f["code"] for f in result["findings"])
            assert codes <= CODES, "undocumented codes %s" % sorted(codes - CODES)
            assert all(f.get("field") for f in result["findings"])
            blocking = [f for f in result["findings"] if f["severity"] == "error"]
            assert blocking or result["findings"], result
            assert re.match(r"\d+ problem\(s\): \[", msg), msg[:300]
        else:
            assert msg.startswith(ARGSPEC_MESSAGES) or msg.startswith("["), msg[:300]
    return result


@pytest.fixture
def no_tools(monkeypatch):
    """No arping, ping or ip on this 'node': the probe can never send anything from a fuzz run."""
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, *args, **kwargs: None)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])


@FUZZ
@given(args=_options(compute_network_check))
@example(args={"node_ips": ["10.0.0.1-10.0.0.3"], "external_service_ips": ["10.0.0.9"], "cluster_domain": "a\nb"})
@example(args={"node_ips": deep(DEPTH), "external_service_ips": [{"a": deep(100)}]})
@example(args={"node_ips": ["10.0.0.1"] * 5000, "external_service_ips": "x" * 100000, "node_count": 2 ** 70})
@example(args={"node_ips": ["10.0.0.1"], "external_service_ips": ["10.0.0.2"], "mtu": float("nan")})
def test_compute_network_check(capsys, args):
    run(capsys, compute_network_check, args)


@FUZZ
@given(args=_options(compute_ip_probe))
@example(args={"interface": "eth1\x00", "addresses": ["10.0.0.1"]})
@example(args={"interface": deep(DEPTH), "addresses": deep(DEPTH)})
@example(args={"interface": "eth1", "addresses": ["0.0.0.0/0"], "max_addresses": 2 ** 70})
@example(args={"interface": "eth1", "addresses": ["10.0.0.0/30"], "timeout": float("nan")})
@example(args={"interface": "eth1", "addresses": ["10.0.0.0/30"], "timeout": float("inf")})
def test_compute_ip_probe(capsys, no_tools, args):
    result = run(capsys, compute_ip_probe, args)
    assert result.get("in_use", []) == []


@FUZZ
@given(args=_options(calico_config))
@example(args={"live": [{"kind": "Installation", "spec": "x"}]})
@example(args={"live": [{"kind": "Installation", "apiVersion": "operator.tigera.io/v1",
                         "spec": {"calicoNetwork": {"ipPools": [{"cidr": deep(DEPTH)}]}}}]})
@example(args={"pool_name": "evil\nkind: Secret", "live": deep(DEPTH)})
@example(args={"node_address_autodetection": {"interface": "(" * 5000}})
def test_calico_config(capsys, args):
    run(capsys, calico_config, args)


@FUZZ
@given(args=_options(metallb_config))
@example(args={"namespace": "", "pools": [{"name": "p\n", "addresses": ["::/0"]}]})
@example(args={"node_selectors": deep(DEPTH), "assigned": [{"ip": deep(50)}]})
@example(args={"pools": [{"name": "p%d" % i, "addresses": ["10.%d.0.0/16" % (i % 250)]} for i in range(500)]})
@example(args={"protocol": "bgp", "bgp_peers": [{"name": "a", "peer_address": "10.0.0.1", "peer_asn": 2 ** 70,
                                                 "my_asn": -1, "hold_time": "9" * 5000, "password": "s3cret"}]})
def test_metallb_config(capsys, args):
    result = run(capsys, metallb_config, args)
    assert "s3cret" not in json.dumps(result)


@FUZZ
@given(args=_options(coredns_config))
@example(args={"corefile": ".:53 {\n" + "a {\n" * 10000 + "}\n" * 10000 + "}\n"})
@example(args={"corefile": "{" * 50000})
@example(args={"forwarders": [""], "namespace": "Kube System!\nx: y", "configmap_name": "core dns:\n- a"})
@example(args={"stub_domains": dict(("z%d.example" % i, ["10.0.0.1"]) for i in range(3000))})
@example(args={"stub_domains": {"a": deep(DEPTH)}, "hosts": [{"ip": "10.0.0.1", "names": deep(DEPTH)}]})
def test_coredns_config(capsys, args):
    run(capsys, coredns_config, args)


@FUZZ
@given(args=_options(verify_config))
@example(args={"compute_network": {"cluster_domain": "a\n---\nkind: Secret", "cluster_dns_ip": deep(100)},
               "namespace": "x\n---\nkind: ConfigMap"})
@example(args={"compute_network": {"cluster_dns_ip": "10.0.0.10"}, "db_probe_send": "'; reboot; '"})
def test_verify_config(capsys, args):
    run(capsys, verify_config, args)


@FUZZ
@given(args=_options(cluster_network_check))
@example(args={"compute_network": {"service_cidr": deep(DEPTH), "node_ips": {"ranges": deep(50)}},
               "nodes": [{"status": {"addresses": [{"type": "InternalIP", "address": "a\n" * 5000}]}}]})
@example(args={"compute_network": {"service_cidr": "172.28.0.0/16", "node_ips": {"ranges": ["10.0.0.1"]}},
               "kubeadm_config": [{"data": {"ClusterConfiguration": "a: &a [*a, *a]\n" + "{" * 5000}}],
               "dns_service": [{"spec": {"clusterIPs": [deep(DEPTH)], "clusterIP": 3}}]})
@example(args={"compute_network": {"service_cidr": "172.28.0.0/16", "node_ips": {"ranges": ["10.0.0.0/8"]}},
               "nodes": [{"metadata": {"name": "n%d" % i},
                          "status": {"addresses": [{"type": "InternalIP", "address": "11.0.%d.%d" % (i // 250, i % 250)}]}}
                         for i in range(5000)]})
def test_cluster_network_check(capsys, args):
    run(capsys, cluster_network_check, args)
