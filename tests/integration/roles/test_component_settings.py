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
