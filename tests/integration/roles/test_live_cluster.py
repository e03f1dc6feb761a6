# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site held against the live cluster, on the emulated API: what only the emulator can set up.

THE EMULATED API IS A TEST DOUBLE, NOT KUBERNETES (tests/emulator/README.md). The mismatches of a
kubeadm cluster are in test_bringup_apply.py, which the real bench runs too; here: a cluster
kubeadm did not make (no kubeadm-config), kube-dns away from the tenth address (the verify app
resolves through the live Service's address, in bringup.yml and in verify.yml), and a component
role used on its own, which holds the site against the cluster before its first object.
"""

import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", ".."))
from emulator.fixtures import emulated_api_factory, run_playbook  # noqa: E402,F401 pylint: disable=unused-import
from test_bringup_apply import (  # noqa: E402,F401 pylint: disable=unused-import
    LIVE_CLUSTER, LIVE_COREDNS, REPO, bringup, cluster_service, site, writes)

NOT_KUBEADM = [obj for obj in LIVE_CLUSTER if obj["metadata"]["name"] != "kubeadm-config"] + LIVE_COREDNS


def flat(run):
    """The run's output on one line; Ansible writes warnings to stderr."""
    return " ".join((run.stdout + run.stderr).split())


def test_a_cluster_kubeadm_did_not_make_is_compared_on_what_it_has(emulated_api_factory, site):
    api = emulated_api_factory(auto_ready=True, resources=NOT_KUBEADM)
    run = bringup(api, site)
    assert run.rc == 0, run
    assert ("[cluster_network_unknown] kubeadm_config: kube-system/kubeadm-config was not found (a cluster kubeadm did"
            " not make): the pod CIDR and the DNS domain are not compared") in flat(run)
    assert api.get("IPAddressPool", "default", "metallb-system")


def test_without_kubeadm_config_the_kubernetes_service_still_tells_the_service_cidr(emulated_api_factory, site):
    # A k3s-like cluster: its kubernetes Service on 10.43.0.1, not on the site's 172.28.0.1.
    objects = [obj for obj in NOT_KUBEADM if obj["metadata"]["name"] != "kubernetes"]
    api = emulated_api_factory(auto_ready=True, resources=objects + [cluster_service("default", "kubernetes", "10.43.0.1")])
    run = bringup(api, site)
    assert run.rc == 2, run
    assert ("[cluster_network_mismatch] compute_network_service_cidr: the site has 172.28.0.0/16, whose first address"
            " is 172.28.0.1; the cluster's Service default/kubernetes, which the API server puts on the first address"
            " of its service CIDR, is at 10.43.0.1") in flat(run)
    assert writes(api) == []


def _resolver(api):
    config = api.get("ConfigMap", "verify-web", "edgeops-verify")
    assert config, "the verify app was not applied"
    return [line.strip() for line in config["data"]["nginx.conf"].splitlines() if line.strip().startswith("resolver")]


def test_the_verify_app_resolves_through_the_live_kube_dns_address(emulated_api_factory, site):
    objects = [obj for obj in LIVE_CLUSTER if obj["metadata"]["name"] != "kube-dns"] + LIVE_COREDNS
    api = emulated_api_factory(auto_ready=True, resources=objects + [
        cluster_service("kube-system", "kube-dns", "172.28.0.53", port=53)])
    # The emulator runs no pods: the run stops at verify_pods_not_ready, after the app was applied.
    run = bringup(api, site, verify_enabled=True, verify_ready_timeout=5, verify_check_retries=1)
    assert "[verify_pods_not_ready]" in run.stdout, run
    assert ("[cluster_dns_ip_differs] compute_network_service_cidr: the cluster's DNS Service kube-system/kube-dns is"
            " at 172.28.0.53, not on the tenth address of 172.28.0.0/16 (172.28.0.10); 172.28.0.53 is used") in flat(run)
    assert _resolver(api) == ["resolver 172.28.0.53 valid=10s;"]


def test_verify_yml_alone_also_takes_the_live_kube_dns_address(emulated_api_factory, site):
    objects = [obj for obj in LIVE_CLUSTER if obj["metadata"]["name"] != "kube-dns"] + LIVE_COREDNS
    api = emulated_api_factory(auto_ready=True, resources=objects + [
        cluster_service("kube-system", "kube-dns", "172.28.0.53", port=53)])
    extra = dict(site["vars"], verify_ready_timeout=5, verify_check_retries=1)
    run = run_playbook(api, os.path.join(REPO, "playbooks", "verify.yml"), "-i", site["inventory"], extra_vars=extra,
                       scratch=site["scratch"])
    assert "[verify_pods_not_ready]" in run.stdout, run
    assert _resolver(api) == ["resolver 172.28.0.53 valid=10s;"]


def test_a_role_used_on_its_own_refuses_a_site_that_disagrees_before_its_first_object(emulated_api_factory, site):
    playbook = os.path.join(site["scratch"], "calico-alone.yml")
    with open(playbook, "w") as handle:
        yaml.safe_dump([
            {"name": "Check", "hosts": "edge_nodes", "gather_facts": False,
             "roles": [{"role": "edgeops.k8s_network.compute_network"}]},
            {"name": "Calico alone", "hosts": "k8s_network_cluster_leaders", "gather_facts": False,
             "roles": [{"role": "edgeops.k8s_network.calico"}]},
        ], handle)
    api = emulated_api_factory(auto_ready=True, resources=LIVE_CLUSTER + LIVE_COREDNS)
    extra = dict(site["vars"], compute_network_pod_cidr="10.244.0.0/16")
    run = run_playbook(api, playbook, "-i", site["inventory"], extra_vars=extra, scratch=site["scratch"])
    assert run.rc == 2, run
    assert "[cluster_network_mismatch] compute_network_pod_cidr: the site has 10.244.0.0/16" in flat(run)
    assert writes(api) == []

    # The same role on a site that agrees goes on to install Calico.
    run = run_playbook(api, playbook, "-i", site["inventory"], extra_vars=site["vars"], scratch=site["scratch"])
    assert run.rc == 0, run
    assert api.get("Installation", "default")["spec"]["calicoNetwork"]["ipPools"][0]["cidr"] == "172.27.0.0/16"
