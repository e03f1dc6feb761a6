# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/bringup.yml in apply mode, driven by ansible-playbook against an emulated API.

THE EMULATED API IS A TEST DOUBLE, NOT KUBERNETES (tests/emulator/README.md). The release
manifests below are small stand-ins with the objects the roles wait for, pinned by their real
sha256 like upstream files would be; `--auto-ready` plays the controllers that would make
Deployments and DaemonSets ready, CRDs Established and the MetalLB webhook's CA injected.

These tests prove the collection's logic from what the API received: the order of objects,
that nothing is sent when the check fails, that a second run changes nothing, that each guard
stops a destructive change and its allow-flag lets it through, and that the CoreDNS rollback
puts the old Corefile back. They prove nothing about a real cluster.
"""

import hashlib
import os
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
from emulator.fixtures import emulated_api_factory, run_playbook  # noqa: E402,F401 pylint: disable=unused-import

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BRINGUP = os.path.join(REPO, "playbooks", "bringup.yml")
MANAGER = "edgeops.k8s_network"

KUBEADM_COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""


def crd(plural, group, kind, version, scope="Namespaced"):
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "%s.%s" % (plural, group)},
        "spec": {"group": group, "scope": scope,
                 "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
                 "versions": [{"name": version, "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]},
    }


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def workload(kind, name, ns):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": "example.invalid/%s:1" % name}]}}}}


STAND_INS = {
    # Calico operator install: CRDs, then the operator; calico-node stands for what it creates.
    "operator-crds.yaml": [
        crd("installations", "operator.tigera.io", "Installation", "v1", scope="Cluster"),
        crd("ippools", "crd.projectcalico.org", "IPPool", "v1", scope="Cluster"),
        crd("felixconfigurations", "crd.projectcalico.org", "FelixConfiguration", "v1", scope="Cluster"),
        crd("tigerastatuses", "operator.tigera.io", "TigeraStatus", "v1", scope="Cluster"),
    ],
    "tigera-operator.yaml": [
        namespace("tigera-operator"), workload("Deployment", "tigera-operator", "tigera-operator"),
        namespace("calico-system"), workload("DaemonSet", "calico-node", "calico-system"),
    ],
    # Calico manifest install: calico.yaml with the objects whose values the role sets.
    "calico.yaml": [
        crd("ippools", "crd.projectcalico.org", "IPPool", "v1", scope="Cluster"),
        crd("felixconfigurations", "crd.projectcalico.org", "FelixConfiguration", "v1", scope="Cluster"),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "calico-config", "namespace": "kube-system"},
         "data": {"veth_mtu": "0", "calico_backend": "bird"}},
        dict(workload("DaemonSet", "calico-node", "kube-system"), spec=dict(
            workload("DaemonSet", "calico-node", "kube-system")["spec"], template={
                "metadata": {"labels": {"app": "calico-node"}},
                "spec": {"containers": [{"name": "calico-node", "image": "example.invalid/node:1",
                                         "env": [{"name": "IP_AUTODETECTION_METHOD", "value": "first-found"}]}]}})),
    ],
    "metallb-native.yaml": [
        namespace("metallb-system"),
        crd("ipaddresspools", "metallb.io", "IPAddressPool", "v1beta1"),
        crd("l2advertisements", "metallb.io", "L2Advertisement", "v1beta1"),
        crd("bgppeers", "metallb.io", "BGPPeer", "v1beta2"),
        crd("bgpadvertisements", "metallb.io", "BGPAdvertisement", "v1beta1"),
        workload("Deployment", "controller", "metallb-system"),
        workload("DaemonSet", "speaker", "metallb-system"),
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
         "metadata": {"name": "metallb-webhook-configuration"},
         "webhooks": [{"name": "ipaddresspoolvalidationwebhook.metallb.io", "admissionReviewVersions": ["v1"],
                       "sideEffects": "None",
                       "clientConfig": {"service": {"name": "metallb-webhook-service",
                                                    "namespace": "metallb-system"}}}]},
    ],
}

LIVE_COREDNS = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
     "data": {"Corefile": KUBEADM_COREFILE}},
    dict(workload("Deployment", "coredns", "kube-system"),
         status={"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1,
                 "observedGeneration": 1,
                 "conditions": [{"type": "Available", "status": "True"}]}),
]

# The cluster as kubeadm leaves it for the tests' site (default pod and service CIDRs, cluster.local,
# one node at the first node IP): kubeadm's ClusterConfiguration, the kubernetes Service on the
# first address of the service CIDR, kube-dns on the tenth, the Node with its InternalIP.
CLUSTER_CONFIGURATION = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
                         "networking": {"serviceSubnet": "172.28.0.0/16", "podSubnet": "172.27.0.0/16",
                                        "dnsDomain": "cluster.local"}}


def kubeadm_config(**networking):
    configuration = dict(CLUSTER_CONFIGURATION, networking=dict(CLUSTER_CONFIGURATION["networking"], **networking))
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
            "data": {"ClusterConfiguration": yaml.safe_dump(configuration, sort_keys=False)}}


def cluster_service(ns, name, ip, port=443):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip], "ports": [{"port": port}]}}


def node(name, address):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": name}]}}


LIVE_CLUSTER = [kubeadm_config(), cluster_service("default", "kubernetes", "172.28.0.1"),
                cluster_service("kube-system", "kube-dns", "172.28.0.10", port=53), node("edge-1", "192.168.10.11")]
LIVE_KUBEADM = LIVE_CLUSTER + LIVE_COREDNS

SITE = {
    "compute_network_interface": "eth1",
    "compute_network_node_ips": "192.168.10.11-192.168.10.12",
    "compute_network_external_service_ips": "192.168.10.100-192.168.10.119",
    "compute_network_subnet": "192.168.10.0/24",
    "compute_network_gateway": "192.168.10.1",
    "compute_network_dns_servers": "192.168.10.2",
    "compute_network_mtu": 1500,
    "compute_network_gather_nodes": False,
    "compute_network_probe": False,
    "k8s_network_mode": "apply",
    "verify_enabled": False,
}


@pytest.fixture
def site(tmp_path):
    """Extra vars for a site whose release manifests sit, pinned, in a local folder."""
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    digests = {}
    for name, objects in STAND_INS.items():
        text = yaml.safe_dump_all(objects, sort_keys=False)
        (manifests / name).write_text(text)
        digests[name] = hashlib.sha256(text.encode()).hexdigest()
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"edge_nodes": {"hosts": {"edge-1": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    settings = dict(SITE)
    settings.update({
        "calico_manifest_dir": str(manifests), "metallb_manifest_dir": str(manifests),
        "calico_operator_crds_sha256": digests["operator-crds.yaml"],
        "calico_tigera_operator_sha256": digests["tigera-operator.yaml"],
        "metallb_manifest_sha256": digests["metallb-native.yaml"],
        "calico_manifest_sha256": digests["calico.yaml"],
        "calico_ready_timeout": 20, "metallb_ready_timeout": 20, "coredns_ready_timeout": 6,
        "metallb_apply_retries": 2,
    })
    return {"inventory": str(inventory), "vars": settings, "scratch": str(tmp_path)}


def bringup(api, site, *args, **overrides):
    extra = dict(site["vars"])
    extra.update(overrides)
    return run_playbook(api, BRINGUP, "-i", site["inventory"], *args, extra_vars=extra, scratch=site["scratch"])


def without(site, manifest, name):
    """Rewrite a stand-in release manifest of the site without the object `name`; its new sha256."""
    text = yaml.safe_dump_all([o for o in STAND_INS[manifest] if o["metadata"]["name"] != name], sort_keys=False)
    with open(os.path.join(site["scratch"], "manifests", manifest), "w") as handle:
        handle.write(text)
    return hashlib.sha256(text.encode()).hexdigest()


def writes(api, since=0):
    return api.journal(since=since, verbs={"create", "update", "patch", "apply", "delete", "deletecollection"})


def test_bringup_applies_in_order_then_changes_nothing(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM)
    first = bringup(api, site)
    assert first.rc == 0, first

    sent = writes(api)
    assert {entry["field_manager"] for entry in sent} == {MANAGER}
    kinds = [entry["kind"] for entry in sent]
    # compute network checked first (no writes), then Calico, MetalLB, CoreDNS, in that order
    assert kinds.index("Installation") < kinds.index("IPAddressPool") < kinds.index("ConfigMap")
    assert kinds.index("CustomResourceDefinition") < kinds.index("Installation")
    assert [e["name"] for e in sent if e["kind"] == "Deployment"][-1] == "coredns"  # restart after the Corefile

    pool = api.get("IPAddressPool", "default", "metallb-system")
    assert pool["spec"]["addresses"] == ["192.168.10.100-192.168.10.119"]
    installation = api.get("Installation", "default")
    assert installation["spec"]["calicoNetwork"]["ipPools"][0]["cidr"] == "172.27.0.0/16"
    assert installation["spec"]["calicoNetwork"]["mtu"] == 1480
    corefile = api.get("ConfigMap", "coredns", "kube-system")["data"]["Corefile"]
    assert "forward . 192.168.10.2" in corefile
    assert "prometheus :9153" in corefile  # the rest of the live Corefile is kept

    mark = api.mark()
    second = bringup(api, site)
    assert second.rc == 0, second
    assert second.recap["edge-1"]["changed"] == 0, second
    assert [e for e in writes(api, since=mark) if e["changed"]] == []


def test_nothing_is_sent_when_the_check_fails(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM)
    run = bringup(api, site, compute_network_pod_cidr="10.233.0.0/16", compute_network_service_cidr="10.233.0.0/18")
    assert run.rc != 0
    assert "[cidr_overlap] compute_network_pod_cidr" in run.stdout
    assert writes(api) == []


def test_a_calico_node_that_never_comes_stops_the_bringup(emulated_api_factory, site):
    # A Degraded operator creates no calico-node: the wait must fail, not report ok.
    digest = without(site, "tigera-operator.yaml", "calico-node")
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM)
    # One look, then one more at the timeout (the poll of 10 s would sleep past it before that look).
    result = bringup(api, site, calico_ready_timeout=3, calico_ready_poll=3, calico_tigera_operator_sha256=digest)
    assert result.rc == 2, result
    assert ("[calico_not_ready] DaemonSet calico-system/calico-node: not found (nothing created it) within"
            " calico_ready_timeout (3 s); TigeraStatus: none reported (is the Tigera operator running?)"
            in " ".join(result.stdout.split()))
    # Nothing of MetalLB or CoreDNS was sent.
    assert [e for e in writes(api) if e["namespace"] == "metallb-system" or e["name"] == "coredns"] == []


def test_a_metallb_speaker_that_never_comes_stops_the_bringup(emulated_api_factory, site):
    digest = without(site, "metallb-native.yaml", "speaker")
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM)
    result = bringup(api, site, metallb_ready_timeout=3, metallb_ready_poll=3, metallb_manifest_sha256=digest)
    assert result.rc == 2, result
    assert ("[metallb_not_ready] DaemonSet metallb-system/speaker: not found (nothing created it) within"
            " metallb_ready_timeout (3 s)" in " ".join(result.stdout.split()))
    assert [e for e in writes(api) if e["name"] == "coredns"] == []


@pytest.mark.parametrize("bad", [{"metallb_apply_retries": "abc"}, {"coredns_ready_timeout": "soon"},
                                 {"verify_enabled": True, "verify_namespace": "x\n---\nkind: Secret"}],
                         ids=["metallb_argument", "coredns_argument", "verify_namespace"])
def test_nothing_is_sent_when_a_later_role_refuses_its_settings(emulated_api_factory, site, bad):
    """Issue 14 defect 2: a later role's argument or renderer refuses before Calico is applied."""
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM)
    run = bringup(api, site, **bad)
    assert run.rc != 0
    assert "[role_argument_invalid]" in run.stdout or "[verify_namespace_invalid]" in run.stdout, run.stdout[-3000:]
    assert writes(api) == []


def test_calico_guard_stops_a_pool_cidr_change_unless_allowed(emulated_api_factory, site):
    live = {"apiVersion": "operator.tigera.io/v1", "kind": "Installation", "metadata": {"name": "default"},
            "spec": {"calicoNetwork": {"ipPools": [{"name": "default-ipv4-ippool", "cidr": "10.244.0.0/16",
                                                    "blockSize": 26, "encapsulation": "IPIPCrossSubnet",
                                                    "natOutgoing": "Enabled", "nodeSelector": "all()"}]}}}
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM + [live])
    refused = bringup(api, site)
    assert refused.rc != 0
    assert "calico_immutable_change" in refused.stdout
    assert [e for e in writes(api) if e["kind"] in ("Installation", "IPAddressPool", "ConfigMap")] == []
    assert api.get("Installation", "default")["spec"]["calicoNetwork"]["ipPools"][0]["cidr"] == "10.244.0.0/16"

    # Allowed: the new pool is added and the old one disabled, then the role waits for the pods.
    allowed = bringup(api, site, calico_allow_migration=True)
    assert allowed.rc != 0
    assert "calico_migration_pending" in allowed.stdout
    pools = {p["cidr"]: p for p in api.get("Installation", "default")["spec"]["calicoNetwork"]["ipPools"]}
    assert set(pools) == {"10.244.0.0/16", "172.27.0.0/16"}
    assert pools["10.244.0.0/16"].get("disableNewAllocations") is True
    assert not pools["172.27.0.0/16"].get("disableNewAllocations")

    # Pods recycled: the old pool goes, and the run goes on to MetalLB and CoreDNS.
    finished = bringup(api, site, calico_allow_migration=True, calico_migration_pods_recycled=True)
    assert finished.rc == 0, finished
    pools = api.get("Installation", "default")["spec"]["calicoNetwork"]["ipPools"]
    assert [p["cidr"] for p in pools] == ["172.27.0.0/16"]
    assert api.get("IPAddressPool", "default", "metallb-system")


def test_metallb_guard_keeps_assigned_service_ips_unless_allowed(emulated_api_factory, site):
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "plc-gateway", "namespace": "default"},
               "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]},
               "status": {"loadBalancer": {"ingress": [{"ip": "192.168.10.150"}]}}}
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM + [service])
    refused = bringup(api, site)
    assert refused.rc != 0
    assert "metallb_ips_orphaned" in refused.stdout
    assert "192.168.10.150" in refused.stdout
    assert [e for e in writes(api) if e["kind"] in ("IPAddressPool", "L2Advertisement", "ConfigMap")] == []

    allowed = bringup(api, site, metallb_allow_orphaned_ips=True)
    assert allowed.rc == 0, allowed
    assert api.get("IPAddressPool", "default", "metallb-system")["spec"]["addresses"] == [
        "192.168.10.100-192.168.10.119"]


def test_coredns_rollback_puts_the_previous_corefile_back(emulated_api_factory, site):
    # Deployments are left to the test: CoreDNS never reports the new generation as rolled out.
    api = emulated_api_factory(auto_ready=["DaemonSet", "CustomResourceDefinition",
                                           "ValidatingWebhookConfiguration"], resources=LIVE_KUBEADM)
    for ns, name in (("tigera-operator", "tigera-operator"), ("metallb-system", "controller")):
        api.add_object(dict(workload("Deployment", name, ns), status={
            "replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1,
            "observedGeneration": 1, "conditions": [{"type": "Available", "status": "True"}]}))
    run = bringup(api, site)
    assert run.rc != 0
    assert "coredns_not_ready" in run.stdout

    corefiles = [e["body"]["data"]["Corefile"] for e in writes(api) if e["kind"] == "ConfigMap"]
    assert len(corefiles) == 2
    assert "forward . 192.168.10.2" in corefiles[0]  # the new one was tried
    assert corefiles[1] == KUBEADM_COREFILE  # then the previous one put back
    assert api.get("ConfigMap", "coredns", "kube-system")["data"]["Corefile"] == KUBEADM_COREFILE


def test_manifest_mode_puts_the_site_mtu_into_calico_yaml(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM)
    run = bringup(api, site, calico_install_mode="manifest", calico_encapsulation="VXLAN")
    assert run.rc == 0, run
    assert api.get("ConfigMap", "calico-config", "kube-system")["data"]["veth_mtu"] == "1450"
    env = api.get("DaemonSet", "calico-node", "kube-system")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "IP_AUTODETECTION_METHOD", "value": "cidr=192.168.10.0/24"} in env
    # calico-node's own default pool, should it start before the IPPool lands, is the site's.
    assert {"name": "CALICO_IPV4POOL_CIDR", "value": "172.27.0.0/16"} in env
    assert {"name": "CALICO_IPV4POOL_VXLAN", "value": "Always"} in env
    pool = api.get("IPPool", "default-ipv4-ippool")
    assert pool["spec"]["cidr"] == "172.27.0.0/16" and pool["spec"]["vxlanMode"] == "Always"
    assert api.get("FelixConfiguration", "default")["spec"]["vxlanMTU"] == 1450


@pytest.mark.parametrize("spoil", ["corrupted", "unpinned"])
def test_every_release_manifest_is_verified_before_anything_is_sent(emulated_api_factory, site, spoil):
    """MetalLB comes after Calico, yet a bad MetalLB file stops the run before Calico's first object."""
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM)
    if spoil == "corrupted":
        with open(os.path.join(site["vars"]["metallb_manifest_dir"], "metallb-native.yaml"), "a") as handle:
            handle.write("# changed after review\n")
        run = bringup(api, site)
        assert "[manifest_checksum_mismatch] metallb_manifest_sha256:" in run.stdout
    else:
        run = bringup(api, site, metallb_version="v0.99.0", metallb_manifest_sha256="")
        assert "[manifest_not_pinned] metallb_manifest_sha256:" in run.stdout
        assert "metallb v0.99.0 metallb-native.yaml (https://raw.githubusercontent.com/metallb/metallb/v0.99.0/" \
            in run.stdout
    assert run.rc != 0
    assert writes(api) == []


@pytest.mark.parametrize("setting, value, message", [
    ("compute_network_pod_cidr", "10.244.0.0/16", "the site has 10.244.0.0/16; the cluster has 172.27.0.0/16"
     " (kube-system/kubeadm-config ClusterConfiguration networking.podSubnet)"),
    ("compute_network_service_cidr", "10.96.0.0/16", "the site has 10.96.0.0/16; the cluster has 172.28.0.0/16"
     " (kube-system/kubeadm-config ClusterConfiguration networking.serviceSubnet)"),
    ("compute_network_cluster_domain", "edge.example", "the site has edge.example; the cluster has cluster.local"
     " (kube-system/kubeadm-config ClusterConfiguration networking.dnsDomain)"),
    ("compute_network_node_ips", "192.168.10.21-192.168.10.22", "the site has 192.168.10.21-192.168.10.22; the"
     " cluster's Node edge-1 has the InternalIP 192.168.10.11, outside them"),
], ids=["pod_cidr", "service_cidr", "cluster_domain", "node_ips"])
def test_a_site_that_disagrees_with_its_cluster_is_refused_before_anything_is_sent(
        emulated_api_factory, site, setting, value, message):
    """DESIGN.md section 5: the site against the live cluster, before anything is applied."""
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM)
    run = bringup(api, site, **{setting: value})
    assert run.rc == 2, run
    assert "[cluster_network_mismatch] %s: %s" % (setting, message) in " ".join(run.stdout.split()), run.stdout[-3000:]
    assert writes(api) == []


def test_check_mode_reads_the_cluster_and_refuses_a_site_that_disagrees(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_KUBEADM)
    run = bringup(api, site, "--check", compute_network_pod_cidr="10.244.0.0/16")
    assert run.rc == 2, run
    assert "[cluster_network_mismatch] compute_network_pod_cidr:" in run.stdout
    assert writes(api) == []  # not even a dry run
