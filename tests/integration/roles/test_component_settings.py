# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings the real components obey, through playbooks/bringup.yml against the emulated API.

THE EMULATED API IS A TEST DOUBLE, NOT KUBERNETES (tests/emulator/README.md). These tests show
what the roles send for settings whose effect depends on how Calico, MetalLB and CoreDNS read
them (issue 15): WireGuard beside the encapsulation, the Installation fields of an older Calico
release. The site, the pinned stand-in manifests and the run are those of test_bringup_apply.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from emulator.fixtures import emulated_api_factory  # noqa: E402,F401 pylint: disable=unused-import
from test_bringup_apply import LIVE_COREDNS, bringup, site  # noqa: E402,F401 pylint: disable=unused-import


def test_wireguard_beside_the_encapsulation_in_operator_mode(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_COREDNS)
    run = bringup(api, site, compute_network_wireguard=True, calico_version="v3.29.4")
    assert run.rc == 0, run
    network = api.get("Installation", "default")["spec"]["calicoNetwork"]
    # Port MTU 1500: WireGuard's 60 bytes outweigh IPIP's 20, as Felix picks the pod MTU.
    assert network["mtu"] == 1440
    assert network["ipPools"][0]["encapsulation"] == "IPIPCrossSubnet"
    # Calico v3.29's Installation has no assignmentMode: a strict apply would refuse the object.
    assert "assignmentMode" not in network["ipPools"][0]
    assert api.get("FelixConfiguration", "default")["spec"] == {"wireguardEnabled": True}


def test_wireguard_in_manifest_mode_reaches_calico_yaml_and_felix(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_COREDNS)
    run = bringup(api, site, compute_network_wireguard=True, calico_install_mode="manifest",
                  calico_encapsulation="None")
    assert run.rc == 0, run
    assert api.get("ConfigMap", "calico-config", "kube-system")["data"]["veth_mtu"] == "1440"
    assert api.get("FelixConfiguration", "default")["spec"] == {"wireguardEnabled": True, "wireguardMTU": 1440}
    # calico.yaml carries the MTU, so the role has nothing to tell the operator to set by hand.
    assert "calico_mtu_not_applied" not in run.stdout + run.stderr


def test_manifest_mode_without_a_tunnel_sets_veth_mtu_and_does_not_ask_for_it(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_COREDNS)
    run = bringup(api, site, calico_install_mode="manifest", calico_encapsulation="None")
    assert run.rc == 0, run
    assert api.get("ConfigMap", "calico-config", "kube-system")["data"]["veth_mtu"] == "1500"
    # The apply mode customises calico.yaml itself: no warning telling the operator to do it.
    assert "calico_mtu_not_applied" not in run.stdout + run.stderr


SITE_HOSTS = [{"ip": "10.20.1.10", "names": ["plc-01.site.example", "plc.lan"]}]


def stub_block(corefile, zone):
    """The text of the server block for ``zone`` (from its key line to its closing brace)."""
    start = corefile.index("\n%s:53 {" % zone)
    return corefile[start:corefile.index("\n}\n", start) + 3]


def test_coredns_answers_stub_zone_names_in_the_stub_block(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_COREDNS)
    run = bringup(api, site, coredns_stub_domains={"site.example": ["10.20.0.53"]}, coredns_hosts=SITE_HOSTS)
    assert run.rc == 0, run
    corefile = api.get("ConfigMap", "coredns", "kube-system")["data"]["Corefile"]
    stub = stub_block(corefile, "site.example")
    assert "hosts /dev/null {" in stub and "10.20.1.10 plc-01.site.example\n" in stub
    assert "plc.lan" not in stub  # outside the zone: the root block answers it
    assert "    hosts /dev/null {\n       10.20.1.10 plc-01.site.example plc.lan\n" in corefile


def test_coredns_refuses_a_reverse_stub_over_the_service_cidr(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_COREDNS)
    # 172.28.0.0/16 is the site's service CIDR (the default): its PTR records are the cluster's.
    run = bringup(api, site, coredns_stub_domains={"28.172.in-addr.arpa": ["10.20.0.53"]})
    assert run.rc != 0
    assert "stub_domain_reverse_overlap" in run.stdout
    # Refused in the preflight render, before anything was applied.
    assert api.journal(verbs={"create", "update", "patch", "apply", "delete"}) == []


def test_bundle_starts_from_the_kubeadm_default_of_the_site_s_release(emulated_api_factory, site, tmp_path):
    import yaml

    api = emulated_api_factory(auto_ready=True)
    bundles = {}
    for version in ("v1.31.4", "v1.33.1"):
        bundle = tmp_path / ("bundle-" + version)
        run = bringup(api, site, k8s_network_mode="bundle", k8s_network_bundle_dir=str(bundle),
                      coredns_kubernetes_version=version)
        assert run.rc == 0, run
        with open(str(bundle / "50-coredns.yaml")) as handle:
            bundles[version] = yaml.safe_load(handle)["data"]["Corefile"]
    assert "    cache 30\n    loop\n" in bundles["v1.31.4"]
    assert "disable success cluster.local" not in bundles["v1.31.4"]
    assert "    cache 30 {\n       disable success cluster.local\n       disable denial cluster.local\n    }\n" \
        in bundles["v1.33.1"]
    # Both carry the site's upstreams; only the cache lines differ.
    assert "forward . 192.168.10.2 {" in bundles["v1.31.4"] and "forward . 192.168.10.2 {" in bundles["v1.33.1"]
    assert api.journal(verbs={"create", "update", "patch", "apply", "delete"}) == []


def test_a_bgp_peer_without_a_name_is_named_after_its_address(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_COREDNS)
    peer = {"peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": 64513, "password": "s3cret-bgp-pass"}
    run = bringup(api, site, metallb_protocol="bgp", metallb_bgp_peers=[peer])
    assert run.rc == 0, run
    assert "metallb_bgp_peers_missing" not in run.stdout + run.stderr
    bgp_peer = api.get("BGPPeer", "peer-192-168-10-1", "metallb-system")
    assert bgp_peer["spec"]["peerAddress"] == "192.168.10.1"
    # The module refers to the Secret the role created, under the same derived name.
    assert bgp_peer["spec"]["passwordSecret"] == {"name": "metallb-bgp-peer-192-168-10-1", "namespace": "metallb-system"}
    secret = api.get("Secret", "metallb-bgp-peer-192-168-10-1", "metallb-system")
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert "s3cret-bgp-pass" not in run.stdout + run.stderr
    from ansible_collections.edgeops.k8s_network.plugins.module_utils import metallb

    advertisement = api.get("BGPAdvertisement", metallb.ADVERTISEMENT_NAME, "metallb-system")
    assert advertisement["spec"]["peers"] == ["peer-192-168-10-1"]


def test_two_nameless_peers_on_one_address_are_refused_naming_them(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=LIVE_COREDNS)
    peers = [{"peer_address": "192.168.10.1", "peer_asn": 64512, "my_asn": 64513},
             {"peer_address": "192.168.10.1", "peer_asn": 64520, "my_asn": 64513}]
    run = bringup(api, site, metallb_protocol="bgp", metallb_bgp_peers=peers)
    assert run.rc != 0
    assert "metallb_peer_name_duplicate" in run.stdout and "peer-192-168-10-1" in run.stdout
    assert api.journal(verbs={"create", "update", "patch", "apply", "delete"}) == []
