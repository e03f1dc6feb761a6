"""``ansible-playbook playbooks/bringup.yml`` in apply mode for the example sites, on the real
control plane with the real MetalLB controller and the real CoreDNS (issue 13 items 2, 3 and 5).

Server: the bench of tests/cluster (real kube-apiserver, controller-manager and scheduler; kwok's
fake Nodes), one per example inventory, module-scoped and shared by the tests of that example:
examples/single-node and examples/two-node, their nodes at the addresses the inventory gives.
The bench's component supervisor (components.py) runs the real CoreDNS v1.12.1 for
kube-system/coredns (Corefile re-projected from the ConfigMap, on a loopback port) and, once the
metallb role has applied MetalLB v0.16.1's release manifest, the real MetalLB controller at the
faked controller pod's IP in a network namespace (the API server calls its webhook there).
The release manifests come from ../shared/releases through the air-gapped path
(``calico_manifest_dir``, ``metallb_manifest_dir``, nothing downloaded) and are checked against
the collection's shipped pins.

The site's DNS server: each bench's ``compute_network_dns_servers`` is the example's first DNS
server address, held by a tiny responder (stub_dns.py) in a network namespace this module makes,
reached over a veth and a /32 route: CoreDNS's root ``forward`` and the stub domain go there,
nowhere else (the example's second server would be an address nothing of ours holds).

What is NOT real here, on purpose:
- Calico: the Tigera operator cannot be built (the Go module proxy does not serve its api
  module at v1.42.3's tree), so nothing would ever act on an Installation and the calico role's
  wait for calico-node would fail. These sites are brought up with Calico's other install mode
  the collection supports, ``calico_install_mode: manifest`` (v3.32.1's calico.yaml, pinned),
  whose calico-node DaemonSet kwok marks Ready: the API server really validates and stores
  calico.yaml's objects and the IPPool the role applies, but no calico-node runs, so that pods
  get addresses from that pool (Calico's fact) is unproven here. test_operator.py holds the
  operator's part, and skips while it cannot be built.
- The verify role is off (``verify_enabled: false``): it execs into its pods (kwok runs no
  containers) and fetches the front end through its LoadBalancer address (no speaker announces
  it, and traffic may go only to addresses the tests made).
- The CoreDNS rollback: kwok, not CoreDNS, decides whether the faked CoreDNS pods are ready, so
  a Corefile the real CoreDNS rejects does not stop the faked rollout. The rollback test makes
  the rollout fail for real instead: the nodes are cordoned, so the real scheduler leaves the
  restarted pods Pending and the Deployment never completes; what follows (the previous
  Corefile put back, served again by the real CoreDNS) is real. A Corefile CoreDNS cannot load
  is refused before it is applied; the test shows the real CoreDNS binary refuses it too.
"""

import ipaddress
import json
import os
import re
import subprocess
import sys
import time

import pytest
import yaml

import cluster
import components
from kube_bench import find_releases, load_balancer_ingress, make_load_balancer, start_bench
from stub_dns import SiteDnsServer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
from emulator.fixtures import PlaybookRun, ansible_env  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.edgeops.k8s_network.plugins.module_utils import compute_network  # noqa: E402 pylint: disable=wrong-import-position

PLAYBOOK = os.path.join(REPO, "playbooks", "bringup.yml")
RELEASES = find_releases()
CALICO_DIR = os.path.join(RELEASES, "calico", "v3.32.1")
METALLB_DIR = os.path.join(RELEASES, "metallb", "v0.16.1")
STUB_ZONE = "corp.test"
# What the site DNS server answers: a name of the stub domain, and one outside every zone
# (answered through the root zone's forward to the site's DNS servers).
STUB_NAME = "historian.corp.test"
STUB_ADDRESS = "10.250.1.20"
UPSTREAM_NAME = "vendor.example.net"
UPSTREAM_ADDRESS = "10.250.1.21"
HOST_NAME = "plc.site.test"
HOST_ADDRESS = "10.250.1.10"
NXDOMAIN = 3
# The kinds whose objects the bring-up writes or reads (for resourceVersion snapshots).
KINDS = ("namespaces,configmaps,secrets,services,serviceaccounts,deployments,daemonsets,roles,rolebindings,"
         "clusterroles,clusterrolebindings,customresourcedefinitions,validatingwebhookconfigurations,"
         "ipaddresspools.metallb.io,l2advertisements.metallb.io,ippools.crd.projectcalico.org")
EXAMPLES = ("single-node", "two-node")
GUARDED = "two-node"  # the example the guard tests (item 3) run on


def group_vars(example):
    with open(os.path.join(REPO, "examples", example, "group_vars", "all.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def dns_servers(value):
    return [item.strip() for item in value.split(",")] if isinstance(value, str) else list(value)


class Site:
    """One example brought up on its own bench."""

    def __init__(self, example, bench, scratch, dns):
        self.example = example
        self.bench = bench
        self.scratch = scratch
        self.dns = dns
        self.vars = group_vars(example)
        self.inventory = os.path.join(REPO, "examples", example)
        self.dns_port = int(bench.env["CLUSTER_DNS"].rpartition(":")[2])
        settings = {key[len("compute_network_"):]: value for key, value in self.vars.items()
                    if key.startswith("compute_network_")}
        settings["dns_servers"] = [dns.address]
        self.check = compute_network.check_compute_network(settings)[0]
        self.first = None
        self.runs = 0

    def extra_vars(self, **more):
        extra = {
            "k8s_network_mode": "apply", "k8s_network_kubeconfig": self.bench.kubeconfig,
            "k8s_network_manifest_download": False,
            "calico_install_mode": "manifest", "calico_manifest_dir": CALICO_DIR,
            "metallb_manifest_dir": METALLB_DIR, "verify_enabled": False,
            "compute_network_dns_servers": [self.dns.address],
            "coredns_hosts": [{"ip": HOST_ADDRESS, "names": [HOST_NAME]}],
            "coredns_stub_domains": {STUB_ZONE: [self.dns.address]},
            "calico_ready_timeout": 120, "calico_ready_poll": 2, "metallb_ready_timeout": 120,
            "metallb_ready_poll": 2, "coredns_ready_timeout": 120, "coredns_ready_poll": 2,
        }
        extra.update(more)
        return extra

    def bringup(self, *args, **more):
        self.runs += 1
        scratch = os.path.join(self.scratch, "run%d" % self.runs)
        os.makedirs(scratch, exist_ok=True)
        env = ansible_env(scratch)
        env.update({"K8S_AUTH_KUBECONFIG": self.bench.kubeconfig, "KUBECONFIG": self.bench.kubeconfig})
        completed = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", self.inventory, PLAYBOOK,
             "-e", json.dumps(self.extra_vars(**more))] + list(args),
            cwd=scratch, env=env, capture_output=True, text=True, timeout=900, check=False)
        return PlaybookRun(completed)

    def answers(self, name):
        return components.dns_query(self.dns_port, name)

    def versions(self):
        """{(kind, namespace, name): resourceVersion} of every object of KINDS."""
        items = self.bench.json("get", KINDS, "-A")["items"]
        return {(item["kind"], item["metadata"].get("namespace"), item["metadata"]["name"]):
                item["metadata"]["resourceVersion"] for item in items}

    def writes(self, since):
        """The bring-up's writes the server accepted since the mark that changed an object."""
        return [(e["verb"], e["kind"], e["namespace"], e["name"]) for e in self.bench.journal(since=since)
                if e["changed"]]


@pytest.fixture(scope="module", params=EXAMPLES)
def site(request, tmp_path_factory):
    """The example brought up once by bringup.yml on a bench of its own, its DNS server running."""
    example = request.param
    for path in (os.path.join(CALICO_DIR, "calico.yaml"), os.path.join(METALLB_DIR, "metallb-native.yaml")):
        if not os.path.isfile(path):
            pytest.skip("release manifest %s not found (set EDGEOPS_RELEASES)" % path)
    if not components.can_make_pod_networks():
        pytest.skip("the site DNS server and the MetalLB controller need root with unshare, nsenter and ip")
    scratch = str(tmp_path_factory.mktemp("site-" + example))
    workdir = os.path.join(scratch, "cluster")
    address = dns_servers(group_vars(example)["compute_network_dns_servers"])[0]
    records = {STUB_NAME: STUB_ADDRESS, UPSTREAM_NAME: UPSTREAM_ADDRESS}
    try:
        bench = start_bench(workdir, inventory=os.path.join(REPO, "examples", example))
        with SiteDnsServer(address, records, os.path.join(scratch, "dns")) as dns:
            found = Site(example, bench, scratch, dns)
            found.first = found.bringup()
            yield found
    finally:
        cluster.down(workdir, log=lambda line: None, quiet_if_absent=True)


# --------------------------------------------------------------------------- item 2


def test_the_bringup_passes_and_applies_what_the_site_says(site):
    run = site.first
    assert run.rc == 0, run
    leader = run.recap[sorted(run.recap)[0]]
    assert leader["failed"] == 0 and leader["changed"] > 0, run.recap
    # The air-gapped path, checked against the shipped pins: nothing was downloaded.
    assert "manifest_checksum_mismatch" not in run.stdout and "manifest_unavailable" not in run.stdout
    pools = site.bench.json("get", "ipaddresspool.metallb.io", "-n", "metallb-system")["items"]
    assert [p["spec"]["addresses"] for p in pools] == [site.check["external_service_ips"]["ranges"]]
    # Stored by the API server against calico.yaml's CRD; no calico-node runs to use it.
    ippools = site.bench.json("get", "ippools.crd.projectcalico.org")["items"]
    assert [(p["spec"]["cidr"], p["spec"]["blockSize"], p["spec"]["ipipMode"], p["spec"]["natOutgoing"])
            for p in ippools] == [(site.check["pod_cidr"], 26, "CrossSubnet", True)]
    corefile = site.bench.get("configmap", "coredns", "kube-system")["data"]["Corefile"]
    assert "forward . %s" % site.dns.address in corefile
    assert "%s %s" % (HOST_ADDRESS, HOST_NAME) in corefile


def test_a_second_bringup_changes_nothing(site):
    before, mark = site.versions(), site.bench.mark()
    run = site.bringup()
    assert run.rc == 0, run
    assert {host: counts["changed"] for host, counts in run.recap.items()} == dict.fromkeys(run.recap, 0), run
    assert site.writes(mark) == []
    after = site.versions()
    moved = {key: (before.get(key), value) for key, value in after.items() if before.get(key) != value}
    assert moved == {}


def _span_holds(span, address):
    if "/" in span:
        return ipaddress.ip_address(address) in ipaddress.ip_network(span)
    first, _sep, last = span.partition("-")
    return ipaddress.ip_address(first) <= ipaddress.ip_address(address) <= ipaddress.ip_address(last or first)


def _range_addresses(site):
    found = []
    for span in site.check["external_service_ips"]["ranges"]:
        if "/" in span:
            found.extend(str(a) for a in ipaddress.ip_network(span))
        else:
            first, _sep, last = span.partition("-")
            start, end = int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last or first))
            found.extend(str(ipaddress.ip_address(n)) for n in range(start, end + 1))
    return found


def test_metallb_gives_load_balancers_addresses_of_the_site_range_only(site):
    bench = site.bench
    wanted = _range_addresses(site)[-2]
    outside = str(ipaddress.ip_address(_range_addresses(site)[-1]) + 1)
    make_load_balancer(bench, "lb-any")
    make_load_balancer(bench, "lb-fixed", {"metallb.io/loadBalancerIPs": wanted})
    make_load_balancer(bench, "lb-outside", {"metallb.io/loadBalancerIPs": outside})
    given = bench.wait_for(lambda: load_balancer_ingress(bench, "lb-any"), timeout=60, what="an ingress address for lb-any")
    assert len(given) == 1 and _span_holds_any(site, given[0]), (given, site.check["external_service_ips"]["ranges"])
    assert bench.wait_for(lambda: load_balancer_ingress(bench, "lb-fixed"), timeout=60, what="the requested address") == [wanted]

    def refused():
        events = bench.json("get", "events", "-n", "default", "--field-selector", "involvedObject.name=lb-outside")["items"]
        return [event for event in events if event["reason"] == "AllocationFailed"]

    events = bench.wait_for(refused, timeout=60, what="the controller's AllocationFailed event for lb-outside")
    assert outside in events[0]["message"]
    assert load_balancer_ingress(bench, "lb-outside") == []


def _span_holds_any(site, address):
    return any(_span_holds(span, address) for span in site.check["external_service_ips"]["ranges"])


def test_real_coredns_answers_for_the_site(site):
    bench = site.bench
    domain = site.check["cluster_domain"]
    assert site.answers("kubernetes.default.svc." + domain) == (0, [site.check["kubernetes_service_ip"]])
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    assert bench.apply([service]).returncode == 0
    cluster_ip = bench.get("service", "web", "default")["spec"]["clusterIP"]
    name = "web.default.svc." + domain
    assert bench.wait_for(lambda: site.answers(name)[1], timeout=30, what="an answer for " + name) == [cluster_ip]
    # The site's hosts entry (coredns_hosts), answered by CoreDNS itself.
    assert site.answers(HOST_NAME) == (0, [HOST_ADDRESS])
    # The stub domain, and a name outside every zone, forwarded to the site's DNS server in its
    # network namespace; its log shows CoreDNS asked it.
    assert site.answers(STUB_NAME) == (0, [STUB_ADDRESS])
    assert site.answers(UPSTREAM_NAME) == (0, [UPSTREAM_ADDRESS])
    assert site.answers("absent." + STUB_ZONE)[0] == NXDOMAIN
    asked = [question for question, _source in site.dns.questions()]
    assert STUB_NAME in asked and UPSTREAM_NAME in asked and "absent." + STUB_ZONE in asked
    assert HOST_NAME not in asked and name not in asked


def test_check_mode_of_a_changed_site_changes_nothing_and_shows_the_change(site):
    before, mark = site.versions(), site.bench.mark()
    hosts = [{"ip": HOST_ADDRESS, "names": [HOST_NAME]}, {"ip": "10.250.1.11", "names": ["hmi.site.test"]}]
    run = site.bringup("-C", "--diff", coredns_hosts=hosts)
    assert run.rc == 0, run
    assert run.recap[sorted(run.recap)[0]]["changed"] > 0, run.recap
    # The diff shows the added line of the Corefile.
    assert re.search(r"^\+\s*10\.250\.1\.11 hmi\.site\.test$", run.stdout, re.M), run.stdout[-3000:]
    assert site.writes(mark) == []
    after = site.versions()
    assert {key: value for key, value in after.items() if before.get(key) != value} == {}
    time.sleep(3)  # longer than the bench's reload interval: nothing new is served
    assert site.answers("hmi.site.test")[1] == []


# --------------------------------------------------------------------------- item 3


@pytest.fixture
def guarded(site):
    if site.example != GUARDED:
        pytest.skip("the guards run on %s's bench only (one bring-up per case is enough)" % GUARDED)
    return site


def test_a_corefile_coredns_cannot_load_is_never_applied(guarded, tmp_path):
    site = guarded
    before = site.bench.get("configmap", "coredns", "kube-system")
    mark = site.bench.mark()
    run = site.bringup(coredns_stub_domains={STUB_ZONE: ["999.1.1.1"]})
    assert run.rc != 0
    assert "forward_invalid_upstream" in run.stdout, run.stdout[-3000:]
    # Refused in the preflight, before the first object: nothing at all was written.
    assert site.writes(mark) == []
    after = site.bench.get("configmap", "coredns", "kube-system")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert site.answers(STUB_NAME) == (0, [STUB_ADDRESS])
    # The same change written by hand is one the real CoreDNS refuses to start with.
    broken = tmp_path / "Corefile"
    broken.write_text("%s:0 {\n    bind 127.0.0.1\n    forward . 999.1.1.1\n}\n" % STUB_ZONE)
    binary = _coredns_binary(site)
    refused = subprocess.run([binary, "-conf", str(broken)], capture_output=True, text=True, timeout=30, check=False)
    assert refused.returncode != 0
    assert "999.1.1.1" in refused.stdout + refused.stderr


def _coredns_binary(site):
    pid_file = os.path.join(site.bench.env["CLUSTER_COMPONENTS_DIR"], "coredns", "pid")
    with open(pid_file, encoding="ascii") as handle:
        return os.readlink("/proc/%d/exe" % int(handle.read()))


def test_a_corefile_that_does_not_come_up_is_rolled_back_and_served_again(guarded):
    site = guarded
    bench = site.bench
    before = bench.get("configmap", "coredns", "kube-system")["data"]["Corefile"]
    nodes = [item["metadata"]["name"] for item in bench.json("get", "nodes")["items"]]
    hosts = [{"ip": HOST_ADDRESS, "names": [HOST_NAME]}, {"ip": "10.250.1.12", "names": ["rollback.site.test"]}]
    try:
        for node in nodes:
            bench.kubectl("cordon", node)
        run = site.bringup(coredns_hosts=hosts, coredns_ready_timeout=12, coredns_ready_poll=2)
    finally:
        for node in nodes:
            bench.kubectl("uncordon", node)
    assert run.rc != 0
    assert "coredns_not_ready" in run.stdout and "the previous Corefile was put back" in run.stdout, run.stdout[-3000:]
    assert bench.get("configmap", "coredns", "kube-system")["data"]["Corefile"] == before
    # The real CoreDNS serves the previous Corefile again: the rolled-back name is gone.
    bench.wait_for(lambda: site.answers("rollback.site.test")[1] == [], timeout=30,
                   what="the previous Corefile to be served again")
    assert site.answers(HOST_NAME) == (0, [HOST_ADDRESS])
    assert site.answers(STUB_NAME) == (0, [STUB_ADDRESS])
    bench.kubectl("rollout", "status", "deployment/coredns", "-n", "kube-system", "--timeout=60s")


def test_a_pool_change_that_takes_an_assigned_address_is_refused_unless_allowed(guarded):
    site = guarded
    bench = site.bench
    addresses = _range_addresses(site)
    held = addresses[-3]
    make_load_balancer(bench, "lb-guard", {"metallb.io/loadBalancerIPs": held})
    assert bench.wait_for(lambda: load_balancer_ingress(bench, "lb-guard"), timeout=60, what="the address of lb-guard") == [held]
    narrower = "%s-%s" % (addresses[0], addresses[len(addresses) // 2])
    pool_version = {p["metadata"]["name"]: p["metadata"]["resourceVersion"]
                    for p in bench.json("get", "ipaddresspool.metallb.io", "-n", "metallb-system")["items"]}

    refused = site.bringup(compute_network_external_service_ips=narrower)
    assert refused.rc != 0
    assert "metallb_ips_orphaned" in refused.stdout and "lb-guard" in refused.stdout, refused.stdout[-3000:]
    assert {p["metadata"]["name"]: p["metadata"]["resourceVersion"]
            for p in bench.json("get", "ipaddresspool.metallb.io", "-n", "metallb-system")["items"]} == pool_version
    assert load_balancer_ingress(bench, "lb-guard") == [held]

    allowed = site.bringup(compute_network_external_service_ips=narrower, metallb_allow_orphaned_ips=True)
    assert allowed.rc == 0, allowed
    pools = bench.json("get", "ipaddresspool.metallb.io", "-n", "metallb-system")["items"]
    assert [p["spec"]["addresses"] for p in pools] == [[narrower]]
    # The real controller takes the address away: no pool holds it any more.
    bench.wait_for(lambda: load_balancer_ingress(bench, "lb-guard") == [], timeout=60, what="the controller to release " + held)
