# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""readiness: what a k8s_info read says about an object waited for, and the failure line."""

from ansible_collections.edgeops.k8s_network.plugins.filter.wait_failure import FilterModule as FailureFilters
from ansible_collections.edgeops.k8s_network.plugins.filter.wait_status import FilterModule as StatusFilters
from ansible_collections.edgeops.k8s_network.plugins.module_utils import readiness


def daemonset(desired, ready, updated=None, generation=1, observed=1):
    return {"metadata": {"name": "calico-node", "namespace": "calico-system", "generation": generation},
            "status": {"desiredNumberScheduled": desired, "numberReady": ready, "numberAvailable": ready,
                       "updatedNumberScheduled": desired if updated is None else updated,
                       "observedGeneration": observed}}


def deployment(replicas=1, ready=1, available=None, updated=None, total=None, generation=1, observed=1,
               conditions=None):
    available = ready if available is None else available
    return {"metadata": {"name": "controller", "namespace": "metallb-system", "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"replicas": replicas if total is None else total, "readyReplicas": ready,
                       "availableReplicas": available, "updatedReplicas": replicas if updated is None else updated,
                       "observedGeneration": observed,
                       "conditions": conditions if conditions is not None else [
                           {"type": "Available", "status": "True" if available >= replicas else "False",
                            "reason": "MinimumReplicasAvailable" if available >= replicas else "MinimumReplicasUnavailable",
                            "message": "Deployment has minimum availability." if available >= replicas
                            else "Deployment does not have minimum availability."}]}}


def found(obj):
    return {"changed": False, "api_found": True, "resources": [obj]}


def event(name, reason, message, stamp, kind="DaemonSet", count=1, type_="Warning"):
    return {"metadata": {"name": name + "." + stamp}, "type": type_, "reason": reason, "message": message,
            "count": count, "lastTimestamp": stamp,
            "involvedObject": {"kind": kind, "name": name, "namespace": "calico-system"}}


# -- wait_status: ready or not, per kind

def test_a_daemonset_with_every_pod_ready_is_ready():
    status = readiness.wait_status(found(daemonset(3, 3)), "DaemonSet")
    assert (status["ready"], status["settled"], status["found"]) == (True, True, True)


def test_a_daemonset_missing_pods_is_not_ready_and_says_its_counts():
    status = readiness.wait_status(found(daemonset(3, 1)), "DaemonSet")
    assert (status["ready"], status["settled"]) == (False, False)
    assert status["state"] == "1 of 3 pods ready (1 available, 3 up to date)"


def test_a_daemonset_no_node_wants_is_not_ready():
    status = readiness.wait_status(found(daemonset(0, 0)), "DaemonSet")
    assert not status["ready"]
    assert status["state"].startswith("no pod is wanted on any node (0 desired")


def test_a_daemonset_whose_controller_lags_a_change_is_not_ready():
    status = readiness.wait_status(found(daemonset(2, 2, generation=3, observed=2)), "DaemonSet")
    assert not status["ready"]
    assert "generation 3, observed 2" in status["state"]


def test_a_daemonset_rolling_an_update_is_not_ready():
    assert not readiness.wait_status(found(daemonset(2, 2, updated=1)), "DaemonSet")["ready"]


def test_an_available_deployment_is_ready():
    assert readiness.wait_status(found(deployment(2, 2)), "Deployment")["ready"]


def test_an_unavailable_deployment_says_its_counts_and_conditions():
    status = readiness.wait_status(found(deployment(2, 0)), "Deployment")
    assert not status["ready"]
    assert status["state"] == (
        "0 of 2 replicas ready (0 available, 2 up to date, 2 in all); conditions: Available=False "
        "(MinimumReplicasUnavailable: Deployment does not have minimum availability.)")


def test_a_deployment_with_old_pods_left_or_a_new_generation_unseen_is_not_ready():
    assert not readiness.wait_status(found(deployment(1, 1, total=2)), "Deployment")["ready"]
    lagging = readiness.wait_status(found(deployment(1, 1, generation=2, observed=1)), "Deployment")
    assert not lagging["ready"]
    assert "generation 2, observed 1" in lagging["state"]


def test_a_deployment_without_status_is_not_ready():
    status = readiness.wait_status(found({"metadata": {"name": "coredns", "generation": 1}, "spec": {}}), "Deployment")
    assert not status["ready"]
    assert "no controller has reported on it yet" in status["state"]
    assert "no conditions reported" in status["state"]


def test_a_crd_is_ready_once_established_and_says_its_conditions_before():
    crd = {"metadata": {"name": "ippools.crd.projectcalico.org"},
           "status": {"conditions": [{"type": "NamesAccepted", "status": "False", "reason": "NameConflict",
                                      "message": "plural is already in use"}]}}
    waiting = readiness.wait_status(found(crd), "CustomResourceDefinition")
    assert not waiting["ready"]
    assert waiting["state"] == ("not established; conditions: NamesAccepted=False (NameConflict: plural is "
                                "already in use)")
    crd["status"]["conditions"].append({"type": "Established", "status": "True"})
    assert readiness.wait_status(found(crd), "CustomResourceDefinition")["ready"]


def test_a_webhook_is_ready_once_every_webhook_has_a_ca_bundle():
    hook = {"metadata": {"name": "metallb-webhook-configuration"},
            "webhooks": [{"name": "a", "clientConfig": {"caBundle": "Zm9v"}}, {"name": "b", "clientConfig": {}}]}
    status = readiness.wait_status(found(hook), "ValidatingWebhookConfiguration")
    assert not status["ready"] and "no CA bundle injected yet into b" in status["state"]
    hook["webhooks"][1]["clientConfig"]["caBundle"] = "Zm9v"
    assert readiness.wait_status(found(hook), "ValidatingWebhookConfiguration")["ready"]
    empty = readiness.wait_status(found({"metadata": {"name": "x"}}), "ValidatingWebhookConfiguration")
    assert not empty["ready"] and empty["state"] == "holds no webhook"


def test_another_kind_is_ready_on_a_ready_condition():
    obj = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert readiness.wait_status(found(obj), "Certificate")["ready"]
    assert not readiness.wait_status(found({"status": {}}), "Certificate")["ready"]


# -- wait_status: absent, unknown kind, unreadable

def test_an_absent_object_is_not_ready_and_waiting_goes_on():
    status = readiness.wait_status({"api_found": True, "resources": []}, "DaemonSet")
    assert (status["ready"], status["settled"], status["found"]) == (False, False, False)
    assert status["state"] == "not found (nothing created it)"


def test_an_unknown_kind_settles_the_wait_at_once():
    result = {"api_found": False, "resources": [],
              "msg": 'Failed to find API for resource with apiVersion "apps/v1" and kind "DaemonSet"'}
    status = readiness.wait_status(result, "DaemonSet", "apps/v1")
    assert (status["ready"], status["settled"], status["api_found"]) == (False, True, False)
    assert status["state"].startswith("the API server does not serve apps/v1 DaemonSet")


def test_a_failed_or_skipped_read_is_not_ready():
    failed = readiness.wait_status({"failed": True, "msg": "connection refused"}, "Deployment")
    assert not failed["ready"] and not failed["settled"]
    assert failed["state"] == "could not be read: connection refused"
    assert not readiness.wait_status({"skipped": True}, "Deployment")["ready"]
    assert not readiness.wait_status(None, "Deployment")["ready"]


# -- events and TigeraStatus

def test_recent_events_are_those_of_the_object_newest_last_and_capped():
    events = [event("calico-node", "FailedCreate", "Error creating: pods is forbidden", "2026-01-01T10:0%d:00Z" % i,
                    count=i + 1) for i in range(7)]
    events.append(event("calico-node", "Other", "about the pod", "2026-01-01T11:00:00Z", kind="Pod"))
    events.append(event("calico-typha", "FailedCreate", "someone else", "2026-01-01T11:00:00Z"))
    lines = readiness.recent_events([{"resources": events}], "calico-node", "DaemonSet")
    assert len(lines) == readiness.MAX_EVENTS
    assert lines[-1] == "Warning FailedCreate: Error creating: pods is forbidden (x7)"
    assert lines[0].endswith("(x3)")


def test_an_event_without_count_and_a_long_message():
    long = event("coredns", "Scaled", "x" * 1000, "2026-01-01T10:00:00Z", kind="Deployment", count=None,
                 type_="Normal")
    [line] = readiness.recent_events([long], "coredns")
    assert line.startswith("Normal Scaled: xxx") and line.endswith("...") and len(line) < 400


def test_tigerastatus_gives_the_degraded_reason_and_message():
    statuses = {"api_found": True, "resources": [
        {"metadata": {"name": "calico"}, "status": {"conditions": [
            {"type": "Available", "status": "False"},
            {"type": "Degraded", "status": "True", "reason": "ResourceReadError",
             "message": "IP pool 10.0.0.0/16 is not within the podSubnet"}]}},
        {"metadata": {"name": "apiserver"}, "status": {"conditions": [
            {"type": "Available", "status": "True"}, {"type": "Progressing", "status": "False"},
            {"type": "Degraded", "status": "False"}]}}]}
    assert readiness.tigera_status_words(statuses) == (
        "TigeraStatus apiserver: Available=True, Progressing=False, Degraded=False; calico: Degraded=True "
        "(ResourceReadError: IP pool 10.0.0.0/16 is not within the podSubnet)")


def test_tigerastatus_absent_or_unknown():
    assert readiness.tigera_status_words([]) == "TigeraStatus: none reported (is the Tigera operator running?)"
    assert "does not serve operator.tigera.io/v1 TigeraStatus" in readiness.tigera_status_words(
        {"api_found": False, "resources": []})


# -- the failure line

def test_no_failure_line_for_a_ready_object():
    assert readiness.wait_failure(found(daemonset(1, 1)), "calico_not_ready", "DaemonSet", "calico-node") == ""


def test_the_failure_line_of_a_daemonset_not_ready():
    line = readiness.wait_failure(
        found(daemonset(2, 1)), "calico_not_ready", "DaemonSet", "calico-node", namespace="calico-system",
        timeout=600, timeout_var="calico_ready_timeout",
        events=[{"resources": [event("calico-node", "FailedCreate", "no space", "2026-01-01T10:00:00Z")]}],
        tigerastatus=[{"metadata": {"name": "calico"}, "status": {"conditions": [
            {"type": "Degraded", "status": "True", "reason": "PoolError", "message": "bad pool"}]}}])
    assert line == (
        "[calico_not_ready] DaemonSet calico-system/calico-node: 1 of 2 pods ready (1 available, 2 up to date) "
        "within calico_ready_timeout (600 s); TigeraStatus calico: Degraded=True (PoolError: bad pool); "
        "recent events: Warning FailedCreate: no space")


def test_the_failure_line_of_an_absent_object_with_no_events():
    line = readiness.wait_failure({"api_found": True, "resources": []}, "metallb_not_ready", "DaemonSet", "speaker",
                                  namespace="metallb-system", timeout=3, timeout_var="metallb_ready_timeout",
                                  events=[{"resources": []}])
    assert line == ("[metallb_not_ready] DaemonSet metallb-system/speaker: not found (nothing created it) within "
                    "metallb_ready_timeout (3 s); no events about it")


def test_the_failure_line_of_an_unknown_kind_names_no_timeout():
    line = readiness.wait_failure({"api_found": False, "resources": []}, "metallb_not_ready",
                                  "CustomResourceDefinition", "ipaddresspools.metallb.io",
                                  api_version="apiextensions.k8s.io/v1", timeout=300, events=[], hint="look here")
    assert line.startswith("[metallb_not_ready] CustomResourceDefinition ipaddresspools.metallb.io: the API server "
                           "does not serve apiextensions.k8s.io/v1 CustomResourceDefinition")
    assert "within" not in line and "events" not in line
    assert line.endswith("; look here")


def test_the_filters_are_thin_over_readiness():
    status = StatusFilters().filters()["wait_status"](found(daemonset(1, 0)), "DaemonSet", "apps/v1")
    assert status == readiness.wait_status(found(daemonset(1, 0)), "DaemonSet")
    line = FailureFilters().filters()["wait_failure"]({"resources": []}, code="verify_rollout_timeout",
                                                      kind="Deployment", name="verify-web", namespace="",
                                                      hint="")
    assert line == "[verify_rollout_timeout] Deployment verify-web: not found (nothing created it)"
