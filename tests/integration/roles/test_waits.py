# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every wait of the roles on the emulated API (issue 19): an object that is absent, of a kind the
cluster does not serve, or never ready stops the run with its code and the object's state; CoreDNS
restarts only a Deployment that exists; check mode does not wait.

THE EMULATED API IS A TEST DOUBLE, NOT KUBERNETES (tests/emulator/README.md). Each test runs one
role on its own (a two-task playbook) against objects put in place as a cluster would hold them:
the component "installed by the site" (``calico_install``/``metallb_install`` false) so the test
decides the state of what the role waits for, with tiny timeouts. The operator-Degraded case on a
real API server waits for the cluster bench (issue 13: no Tigera operator runs there yet).
"""

import json
import os
import sys
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from emulator.fixtures import emulated_api_factory, run_playbook  # noqa: E402,F401 pylint: disable=unused-import
from test_bringup_apply import KUBEADM_COREFILE, LIVE_COREDNS, SITE, crd, namespace, site, workload, writes  # noqa: E402,F401 pylint: disable=unused-import
from ansible_collections.edgeops.k8s_network.plugins.module_utils.compute_network import check_compute_network  # noqa: E402

PLAYBOOK = """---
- name: Run one role of the collection
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: "edgeops.k8s_network.{{ wait_role }}"
"""

QUICK = {"calico_ready_timeout": 1, "calico_ready_poll": 1, "metallb_ready_timeout": 1, "metallb_ready_poll": 1,
         "coredns_ready_timeout": 1, "coredns_ready_poll": 1, "verify_ready_timeout": 1, "verify_ready_poll": 1,
         "metallb_apply_retries": 0}


def compute_network():
    skipped = ("compute_network_gather_nodes", "compute_network_probe")
    settings = {key[len("compute_network_"):]: value for key, value in SITE.items()
                if key.startswith("compute_network_") and key not in skipped}
    network, findings = check_compute_network(settings)
    assert [f for f in findings if f["severity"] == "error"] == []
    return network


def run_role(api, tmp_path, role, *args, **overrides):
    playbook = tmp_path / "role.yml"
    playbook.write_text(PLAYBOOK)
    extra = {"wait_role": role, "compute_network": compute_network(), "k8s_network_mode": "apply",
             "calico_install": False, "metallb_install": False}
    extra.update(QUICK)
    extra.update(overrides)
    run = run_playbook(api, str(playbook), *args, extra_vars=extra, scratch=str(tmp_path))
    run.text = " ".join(run.stdout.split())  # the failure line, whatever Ansible's wrapping
    return run


def ready(obj, status):
    return dict(obj, status=status)


def event(name, kind, ns, reason, message, stamp="2026-01-01T10:00:00Z", count=1):
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "%s.%s" % (name, reason.lower()), "namespace": ns},
            "involvedObject": {"apiVersion": "apps/v1", "kind": kind, "name": name, "namespace": ns},
            "type": "Warning", "reason": reason, "message": message, "count": count,
            "firstTimestamp": stamp, "lastTimestamp": stamp}


TIGERA_CRDS = [crd("installations", "operator.tigera.io", "Installation", "v1", scope="Cluster"),
               crd("tigerastatuses", "operator.tigera.io", "TigeraStatus", "v1", scope="Cluster")]
DEGRADED = {"apiVersion": "operator.tigera.io/v1", "kind": "TigeraStatus", "metadata": {"name": "calico"},
            "status": {"conditions": [
                {"type": "Available", "status": "False"},
                {"type": "Degraded", "status": "True", "reason": "ResourceValidationError",
                 "message": "IP pool 172.27.0.0/16 is not within the platform's configured pod network CIDR(s)"}]}}
METALLB_CRDS = [crd("ipaddresspools", "metallb.io", "IPAddressPool", "v1beta1"),
                crd("l2advertisements", "metallb.io", "L2Advertisement", "v1beta1")]
AVAILABLE = {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1,
             "observedGeneration": 1, "conditions": [{"type": "Available", "status": "True"}]}
WEBHOOK = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
           "metadata": {"name": "metallb-webhook-configuration"},
           "webhooks": [{"name": "ipaddresspoolvalidationwebhook.metallb.io", "admissionReviewVersions": ["v1"],
                         "sideEffects": "None", "clientConfig": {"caBundle": "Zm9v", "service": {
                             "name": "metallb-webhook-service", "namespace": "metallb-system"}}}]}
METALLB_UP = [namespace("metallb-system")] + METALLB_CRDS + [
    ready(workload("Deployment", "controller", "metallb-system"), AVAILABLE), WEBHOOK]


# ------------------------------------------------------------------------------------- Calico

def test_calico_resource_definition_absent(emulated_api_factory, tmp_path):
    api = emulated_api_factory()
    run = run_role(api, tmp_path, "calico")
    assert run.rc == 2, run
    assert ("[calico_not_ready] CustomResourceDefinition installations.operator.tigera.io: not found (nothing "
            "created it) within calico_ready_timeout (1 s)") in run.text
    assert "FAILED - RETRYING" in run.stdout  # each attempt shows
    assert writes(api) == []


def test_calico_resource_definitions_of_a_kind_the_cluster_does_not_serve(emulated_api_factory, tmp_path):
    api = emulated_api_factory(hide_kinds=["CustomResourceDefinition"])
    run = run_role(api, tmp_path, "calico", calico_ready_timeout=600)
    assert run.rc == 2, run
    assert ("[calico_not_ready] CustomResourceDefinition installations.operator.tigera.io: the API server does not "
            "serve apiextensions.k8s.io/v1 CustomResourceDefinition") in run.text
    assert "FAILED - RETRYING" not in run.stdout  # stopped at once, despite the 600 s timeout


def test_calico_node_never_ready_gives_tigerastatus_counts_and_events(emulated_api_factory, tmp_path):
    node = ready(workload("DaemonSet", "calico-node", "calico-system"), {
        "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 2,
        "numberReady": 1, "numberAvailable": 1, "observedGeneration": 1})
    api = emulated_api_factory(resources=TIGERA_CRDS + [DEGRADED, namespace("calico-system"), node, event(
        "calico-node", "DaemonSet", "calico-system", "FailedCreate", "Error creating: pods is forbidden", count=4)])
    run = run_role(api, tmp_path, "calico")
    assert run.rc == 2, run
    assert ("[calico_not_ready] DaemonSet calico-system/calico-node: 1 of 2 pods ready (1 available, 2 up to date) "
            "within calico_ready_timeout (1 s); TigeraStatus calico: Degraded=True (ResourceValidationError: IP pool "
            "172.27.0.0/16 is not within the platform's configured pod network CIDR(s)); recent events: Warning "
            "FailedCreate: Error creating: pods is forbidden (x4)") in run.text
    assert api.get("Installation", "default")  # the wait came after the Installation


def test_calico_node_never_created_by_a_silent_operator(emulated_api_factory, tmp_path):
    api = emulated_api_factory(resources=TIGERA_CRDS)
    run = run_role(api, tmp_path, "calico")
    assert run.rc == 2, run
    assert ("[calico_not_ready] DaemonSet calico-system/calico-node: not found (nothing created it) within "
            "calico_ready_timeout (1 s); TigeraStatus: none reported (is the Tigera operator running?); "
            "no events about it") in run.text


def test_calico_node_of_a_kind_the_cluster_does_not_serve(emulated_api_factory, tmp_path):
    api = emulated_api_factory(resources=TIGERA_CRDS, hide_kinds=["DaemonSet"])
    run = run_role(api, tmp_path, "calico", calico_ready_timeout=600)
    assert run.rc == 2, run
    assert ("[calico_not_ready] DaemonSet calico-system/calico-node: the API server does not serve apps/v1 "
            "DaemonSet") in run.text


def test_tigera_operator_never_available(emulated_api_factory, site, tmp_path):
    # Calico installed by the role from the pinned stand-ins; no controller makes Deployments ready.
    api = emulated_api_factory(auto_ready=["CustomResourceDefinition", "DaemonSet"])
    overrides = {k: v for k, v in site["vars"].items() if k.startswith("calico_")}
    overrides.update(QUICK, calico_install=True)
    run = run_role(api, tmp_path, "calico", **overrides)
    assert run.rc == 2, run
    assert ("[calico_not_ready] Deployment tigera-operator/tigera-operator: 0 of 1 replicas ready (0 available, "
            "0 up to date, 0 in all); no controller has reported on it yet (no observedGeneration); no conditions "
            "reported within calico_ready_timeout (1 s); "
            "no events about it") in run.text
    assert api.get("Installation", "default") is None  # nothing for an operator that does not run


# ------------------------------------------------------------------------------------ MetalLB

def test_metallb_resource_definitions_absent(emulated_api_factory, tmp_path):
    api = emulated_api_factory()
    run = run_role(api, tmp_path, "metallb")
    assert run.rc == 2, run
    assert ("[metallb_not_ready] CustomResourceDefinition ipaddresspools.metallb.io: not found (nothing created it) "
            "within metallb_ready_timeout (1 s)") in run.text


def test_metallb_controller_never_available(emulated_api_factory, tmp_path):
    controller = ready(workload("Deployment", "controller", "metallb-system"), {
        "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1, "observedGeneration": 1,
        "conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                        "message": "Deployment does not have minimum availability."}]})
    api = emulated_api_factory(resources=[namespace("metallb-system")] + METALLB_CRDS + [controller, event(
        "controller", "Deployment", "metallb-system", "FailedCreate", "exceeded quota: compute-resources")])
    run = run_role(api, tmp_path, "metallb")
    assert run.rc == 2, run
    assert ("[metallb_not_ready] Deployment metallb-system/controller: 0 of 1 replicas ready (0 available, 1 up to "
            "date, 1 in all); conditions: Available=False (MinimumReplicasUnavailable: Deployment does not have "
            "minimum availability.) within metallb_ready_timeout (1 s); recent events: Warning FailedCreate: "
            "exceeded quota: compute-resources") in run.text
    assert writes(api) == []


def test_metallb_webhook_without_its_ca_bundle(emulated_api_factory, tmp_path):
    hook = json.loads(json.dumps(WEBHOOK))
    del hook["webhooks"][0]["clientConfig"]["caBundle"]
    api = emulated_api_factory(resources=METALLB_UP[:-1] + [hook])
    run = run_role(api, tmp_path, "metallb")
    assert run.rc == 2, run
    assert ("[metallb_not_ready] ValidatingWebhookConfiguration metallb-webhook-configuration: no CA bundle injected "
            "yet into ipaddresspoolvalidationwebhook.metallb.io (the webhook refuses requests until then) within "
            "metallb_ready_timeout (1 s); the controller injects the CA bundle once it runs") in run.text
    assert writes(api) == []


def test_metallb_speaker_of_a_kind_the_cluster_does_not_serve(emulated_api_factory, tmp_path):
    api = emulated_api_factory(resources=METALLB_UP, hide_kinds=["DaemonSet"])
    run = run_role(api, tmp_path, "metallb", metallb_ready_timeout=600)
    assert run.rc == 2, run
    assert ("[metallb_not_ready] DaemonSet metallb-system/speaker: the API server does not serve apps/v1 DaemonSet"
            in run.text)
    assert api.get("IPAddressPool", "default", "metallb-system")  # the wait came after the pools


def test_metallb_speaker_never_ready(emulated_api_factory, tmp_path):
    speaker = ready(workload("DaemonSet", "speaker", "metallb-system"), {
        "desiredNumberScheduled": 3, "numberReady": 2, "numberAvailable": 2, "updatedNumberScheduled": 3,
        "observedGeneration": 1})
    api = emulated_api_factory(resources=METALLB_UP + [speaker])
    run = run_role(api, tmp_path, "metallb")
    assert run.rc == 2, run
    assert ("[metallb_not_ready] DaemonSet metallb-system/speaker: 2 of 3 pods ready (2 available, 3 up to date) "
            "within metallb_ready_timeout (1 s); no events about it") in run.text


# ------------------------------------------------------------------------------------ CoreDNS

COREFILE_CM = LIVE_COREDNS[0]


@pytest.mark.parametrize("hidden", [[], ["Deployment"]], ids=["absent", "kind_not_served"])
def test_coredns_without_a_deployment_stops_before_the_corefile_changes(emulated_api_factory, tmp_path, hidden):
    other = dict(workload("Deployment", "metrics-server", "kube-system"))  # no k8s-app=kube-dns label
    api = emulated_api_factory(resources=[COREFILE_CM] + ([] if hidden else [other]), hide_kinds=hidden)
    run = run_role(api, tmp_path, "coredns")
    assert run.rc == 2, run
    reason = ("the API server does not serve apps/v1 Deployment" if hidden else
              "not found, nor any Deployment in namespace kube-system with the label k8s-app=kube-dns")
    assert "[coredns_deployment_missing] Deployment kube-system/coredns: " + reason in run.text
    assert "The Corefile was not changed." in run.text
    assert writes(api) == []
    assert api.get("ConfigMap", "coredns", "kube-system")["data"]["Corefile"] == KUBEADM_COREFILE


def test_coredns_found_by_its_label_is_the_one_restarted(emulated_api_factory, tmp_path):
    dns = workload("Deployment", "rke2-coredns", "kube-system")
    dns["metadata"]["labels"] = {"k8s-app": "kube-dns"}
    api = emulated_api_factory(auto_ready=["Deployment"], resources=[COREFILE_CM, ready(dns, AVAILABLE)])
    run = run_role(api, tmp_path, "coredns")
    assert run.rc == 0, run
    restarts = [e for e in writes(api) if e["kind"] == "Deployment"]
    assert [e["name"] for e in restarts] == ["rke2-coredns"]
    assert api.get("Deployment", "coredns", "kube-system") is None  # none made up
    assert "forward . 192.168.10.2" in api.get("ConfigMap", "coredns", "kube-system")["data"]["Corefile"]


def test_coredns_never_ready_on_the_new_corefile_is_rolled_back_saying_why(emulated_api_factory, tmp_path):
    dns = ready(workload("Deployment", "coredns", "kube-system"), AVAILABLE)
    api = emulated_api_factory(resources=[COREFILE_CM, dns, event(
        "coredns", "Deployment", "kube-system", "ScalingReplicaSet", "Scaled up replica set coredns-7d9 to 1")])
    run = run_role(api, tmp_path, "coredns")
    assert run.rc == 2, run
    assert ("[coredns_not_ready] Deployment kube-system/coredns: 1 of 1 replicas ready (1 available, 1 up to date, "
            "1 in all); its controller has not seen the latest change yet (generation 2, observed 1); conditions: "
            "Available=True within coredns_ready_timeout (1 s); recent events: Warning ScalingReplicaSet: Scaled up "
            "replica set coredns-7d9 to 1; the previous Corefile was put back") in run.text
    assert api.get("ConfigMap", "coredns", "kube-system")["data"]["Corefile"] == KUBEADM_COREFILE


def test_coredns_labelled_twice_and_named_neither_way_stops_before_the_corefile_changes(emulated_api_factory, tmp_path):
    pair = []
    for name in ("dns-a", "dns-b"):
        dns = workload("Deployment", name, "kube-system")
        dns["metadata"]["labels"] = {"k8s-app": "kube-dns"}
        pair.append(ready(dns, AVAILABLE))
    api = emulated_api_factory(resources=[COREFILE_CM] + pair)
    run = run_role(api, tmp_path, "coredns")
    assert run.rc == 2, run
    assert ("[coredns_deployment_ambiguous] Deployment kube-system/coredns does not exist and several carry the label "
            "k8s-app=kube-dns: dns-a, dns-b") in run.text
    assert writes(api) == []


def test_a_refused_restart_is_not_rolled_back(emulated_api_factory, tmp_path):
    """The API refuses the restart (another manager owns the annotation: 409); the new Corefile stays."""
    api = emulated_api_factory(auto_ready=["Deployment"], resources=LIVE_COREDNS)
    owned = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "coredns", "namespace": "kube-system"},
             "spec": {"template": {"metadata": {"annotations": {"edgeops.k8s-network/corefile-sha256": "other"}}}}}
    request = urllib.request.Request(
        api.url + "/apis/apps/v1/namespaces/kube-system/deployments/coredns?fieldManager=someone-else",
        data=json.dumps(owned).encode(), method="PATCH", headers={"Content-Type": "application/apply-patch+yaml"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    run = run_role(api, tmp_path, "coredns")
    assert run.rc == 2, run
    assert "Restart CoreDNS on the new Corefile" in run.stdout and "someone-else" in run.text
    assert "coredns_not_ready" not in run.stdout and "Put the previous Corefile back" not in run.stdout
    assert [e["code"] for e in writes(api) if e["kind"] == "ConfigMap"] == [200]  # the new one, once
    assert "forward . 192.168.10.2" in api.get("ConfigMap", "coredns", "kube-system")["data"]["Corefile"]


# ------------------------------------------------------------------------------------- verify

def test_verify_rollout_never_available(emulated_api_factory, tmp_path):
    api = emulated_api_factory()
    run = run_role(api, tmp_path, "verify")
    assert run.rc == 2, run
    for tier in ("verify-db", "verify-web"):
        assert ("[verify_rollout_timeout] Deployment edgeops-verify/%s: 0 of 2 replicas ready (0 available, 0 up to "
                "date, 0 in all); no controller has reported on it yet (no observedGeneration); no conditions reported "
                "within verify_ready_timeout (1 s); no events about it"
                % tier) in run.text


# -------------------------------------------------------------------------------- check mode

def test_check_mode_does_not_wait(emulated_api_factory, tmp_path):
    """Nothing is ready and the timeouts are long: a check run says it does not wait, and ends."""
    api = emulated_api_factory(resources=TIGERA_CRDS + [namespace("metallb-system")] + METALLB_CRDS + LIVE_COREDNS)
    slow = {key: 600 for key in QUICK if key.endswith("_timeout")}
    for role, lines in (("calico", ["CustomResourceDefinition installations.operator.tigera.io",
                                    "DaemonSet calico-system/calico-node"]),
                        ("metallb", ["Deployment metallb-system/controller", "DaemonSet metallb-system/speaker",
                                     "ValidatingWebhookConfiguration metallb-webhook-configuration"]),
                        ("coredns", ["Deployment kube-system/coredns"])):
        run = run_role(api, tmp_path, role, "--check", **slow)
        assert run.rc == 0, run
        assert "FAILED - RETRYING" not in run.stdout
        for line in lines:
            assert "Check mode: not waiting for " + line in run.stdout, (line, run)
    assert [e for e in writes(api) if not e["dry_run"]] == []
