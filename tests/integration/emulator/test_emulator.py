# Copyright: (c) 2025, edgeops.k8s_network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulated Kubernetes API (tests/emulator) driven by the real clients.

The emulated API is a TEST DOUBLE, NOT KUBERNETES. These tests show that kubernetes.core
(`k8s` with client-side and server-side apply, `wait`, `k8s_info` with selectors), the
Kubernetes Python client and kubectl work against it, and that it records what they send, so
that role tests built on it prove the collection's logic. They prove nothing about a real
cluster.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# The fixtures are used by name; pylint and flake8 cannot see that.
from emulator.fixtures import (  # noqa: E402,F401 pylint: disable=unused-import
    emulated_api, emulated_api_factory, run_playbook)

kubernetes = pytest.importorskip("kubernetes")
from kubernetes.dynamic import DynamicClient  # noqa: E402
from kubernetes.dynamic.exceptions import BadRequestError, ConflictError, NotFoundError, ResourceNotFoundError  # noqa: E402

FIELD_MANAGER = "edgeops.k8s_network"
NS = "edge-emulator-test"
POOL = {
    "apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
    "metadata": {"name": "external", "namespace": NS, "labels": {"app.kubernetes.io/part-of": "edgeops"}},
    "spec": {"addresses": ["192.168.50.10-192.168.50.20"], "autoAssign": True},
}


def write_playbook(path, tasks):
    play = [{"name": "emulated API", "hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
             "tasks": tasks}]
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(play, handle, sort_keys=False)
    return str(path)


def apply_tasks():
    """Namespace and ConfigMap by client-side apply, the pool by server-side apply, then
    k8s_info with label selectors, asserting inside the play what the API answered."""
    return [
        {"name": "namespace (client-side apply)", "kubernetes.core.k8s": {
            "state": "present", "apply": True, "definition": {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": NS, "labels": {"team": "edge"}}}}},
        {"name": "config map (client-side apply)", "kubernetes.core.k8s": {
            "state": "present", "apply": True, "definition": {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": NS,
                             "labels": {"app.kubernetes.io/part-of": "edgeops"}},
                "data": {"pod_cidr": "172.27.0.0/16"}}}},
        {"name": "unlabelled config map (server-side apply)", "kubernetes.core.k8s": {
            "state": "present", "apply": True,
            "server_side_apply": {"field_manager": FIELD_MANAGER},
            "definition": {"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "other", "namespace": NS},
                           "data": {"x": "1"}}}},
        {"name": "address pool (server-side apply)", "kubernetes.core.k8s": {
            "state": "present", "apply": True,
            "server_side_apply": {"field_manager": FIELD_MANAGER},
            "definition": POOL}},
        {"name": "config maps by label", "register": "labelled", "kubernetes.core.k8s_info": {
            "kind": "ConfigMap", "namespace": NS,
            "label_selectors": ["app.kubernetes.io/part-of=edgeops"]}},
        {"name": "pools by label, in every namespace", "register": "pools",
         "kubernetes.core.k8s_info": {
             "api_version": "metallb.io/v1beta1", "kind": "IPAddressPool",
             "label_selectors": ["app.kubernetes.io/part-of in (edgeops, other)"]}},
        {"name": "nothing matches a selector nobody carries", "register": "nomatch",
         "kubernetes.core.k8s_info": {"kind": "ConfigMap", "namespace": NS,
                                      "label_selectors": ["app.kubernetes.io/part-of!=edgeops",
                                                          "missing"]}},
        {"name": "the API answered what was applied", "ansible.builtin.assert": {"that": [
            "labelled.resources | map(attribute='metadata.name') | list == ['settings']",
            "pools.resources | length == 1",
            "pools.resources[0].spec.addresses == ['192.168.50.10-192.168.50.20']",
            "pools.resources[0].metadata.managedFields[0].manager == '%s'" % FIELD_MANAGER,
            "nomatch.resources == []",
        ]}},
    ]


def test_apply_server_side_apply_info_and_idempotence(emulated_api, tmp_path):
    playbook = write_playbook(tmp_path / "apply.yml", apply_tasks())

    first = run_playbook(emulated_api, playbook)
    assert first.rc == 0, first
    assert first.recap["localhost"]["changed"] == 4, first
    writes = emulated_api.journal()
    assert [(e["verb"], e["kind"], e["name"], e["code"]) for e in writes] == [
        ("create", "Namespace", NS, 201),
        ("create", "ConfigMap", "settings", 201),
        ("apply", "ConfigMap", "other", 201),
        ("apply", "IPAddressPool", "external", 201),
    ]
    pool_request = writes[-1]
    assert pool_request["method"] == "PATCH"
    assert pool_request["content_type"] == "application/apply-patch+yaml"
    assert pool_request["field_manager"] == FIELD_MANAGER
    assert pool_request["path"] == "/apis/metallb.io/v1beta1/namespaces/%s/ipaddresspools/external" % NS
    assert pool_request["body"]["spec"] == POOL["spec"]
    # client-side apply leaves its trace in the object sent
    assert "kubectl.kubernetes.io/last-applied-configuration" in \
        writes[1]["body"]["metadata"]["annotations"]

    before = {(o["kind"], o["metadata"]["name"]): o["metadata"]["resourceVersion"]
              for o in emulated_api.objects(namespace=NS)}
    mark = emulated_api.mark()
    second = run_playbook(emulated_api, playbook)
    assert second.rc == 0, second
    assert second.recap["localhost"]["changed"] == 0, second
    again = emulated_api.journal(since=mark)
    # Server-side apply always sends its configuration; the API found nothing to change.
    assert [(e["verb"], e["name"], e["changed"]) for e in again] == [
        ("apply", "other", False), ("apply", "external", False)]
    after = {(o["kind"], o["metadata"]["name"]): o["metadata"]["resourceVersion"]
             for o in emulated_api.objects(namespace=NS)}
    assert after == before

    pool = emulated_api.get("IPAddressPool", "external", NS)
    assert [(m["manager"], m["operation"]) for m in pool["metadata"]["managedFields"]] == [
        (FIELD_MANAGER, "Apply")]
    assert pool["metadata"]["generation"] == 1
    assert pool["metadata"]["uid"]


def test_a_real_change_bumps_resource_version_and_generation(emulated_api, tmp_path):
    tasks = apply_tasks()[:4]
    playbook = write_playbook(tmp_path / "apply.yml", tasks)
    assert run_playbook(emulated_api, playbook).rc == 0
    before = emulated_api.get("IPAddressPool", "external", NS)["metadata"]

    tasks[3]["kubernetes.core.k8s"]["definition"] = dict(
        POOL, spec={"addresses": ["192.168.50.10-192.168.50.30"]})
    playbook = write_playbook(tmp_path / "change.yml", tasks)
    run = run_playbook(emulated_api, playbook)
    assert run.rc == 0, run
    assert run.recap["localhost"]["changed"] == 1, run
    pool = emulated_api.get("IPAddressPool", "external", NS)
    assert int(pool["metadata"]["resourceVersion"]) > int(before["resourceVersion"])
    assert pool["metadata"]["generation"] == 2
    # autoAssign was applied by this manager before and dropped now: server-side apply removes it
    assert pool["spec"] == {"addresses": ["192.168.50.10-192.168.50.30"]}


def deployment_playbook(path, timeout):
    return write_playbook(path, [
        {"name": "namespace", "kubernetes.core.k8s": {
            "state": "present", "definition": {
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}}},
        {"name": "deployment, waited for", "kubernetes.core.k8s": {
            "state": "present", "apply": True,
            "server_side_apply": {"field_manager": FIELD_MANAGER},
            "wait": True, "wait_timeout": timeout, "wait_sleep": 1,
            "definition": {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": NS},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"containers": [{"name": "web",
                                                               "image": "nginx:1.27"}]}}}}}},
    ])


def test_wait_succeeds_when_auto_ready_plays_the_controller(emulated_api_factory, tmp_path):
    api = emulated_api_factory(auto_ready=True)
    run = run_playbook(api, deployment_playbook(tmp_path / "deploy.yml", 30))
    assert run.rc == 0, run
    status = api.get("Deployment", "web", NS)["status"]
    assert status["availableReplicas"] == 2 and status["observedGeneration"] == 1


def test_wait_times_out_without_a_controller_until_the_test_writes_status(
        emulated_api, tmp_path):
    playbook = deployment_playbook(tmp_path / "deploy.yml", 3)
    run = run_playbook(emulated_api, playbook)
    assert run.rc != 0, run
    assert run.recap["localhost"]["failed"] == 1, run

    emulated_api.set_status("apps/v1", "Deployment", "web", namespace=NS, status={
        "observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
        "availableReplicas": 2})
    run = run_playbook(emulated_api, playbook)
    assert run.rc == 0, run
    assert run.recap["localhost"]["changed"] == 0, run


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_reads_and_applies(emulated_api, tmp_path):
    client = dynamic_client(emulated_api)
    client.resources.get(api_version="v1", kind="ConfigMap").create(
        namespace="default", body={"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "from-python"}, "data": {"a": "b"}})

    def kubectl(*args, stdin=None):
        return subprocess.run(["kubectl", "--kubeconfig", emulated_api.kubeconfig,
                               "--cache-dir", str(tmp_path / "kube-cache")] + list(args),
                              input=stdin, capture_output=True, text=True, timeout=60,
                              check=False)

    listed = kubectl("get", "configmaps", "-A")
    assert listed.returncode == 0, listed.stderr
    assert "from-python" in listed.stdout and "default" in listed.stdout

    manifest = yaml.safe_dump({"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement",
                               "metadata": {"name": "l2", "namespace": "default"},
                               "spec": {"ipAddressPools": ["external"]}})
    applied = kubectl("apply", "--server-side", "--validate=false", "-f", "-", stdin=manifest)
    assert applied.returncode == 0, applied.stderr
    assert [(e["verb"], e["kind"], e["field_manager"]) for e in emulated_api.journal()[-1:]] == [
        ("apply", "L2Advertisement", "kubectl")]
    got = kubectl("get", "l2advertisements", "-n", "default", "-o", "jsonpath={.items[*].spec}")
    assert got.returncode == 0 and "external" in got.stdout, got.stderr


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_wait_sees_a_status_written_later_through_a_watch(emulated_api, tmp_path):
    api = emulated_api
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "things.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"kind": "Thing", "plural": "things"},
                    "versions": [{"name": "v1", "served": True, "storage": True}]}}
    dynamic_client(api).resources.get(api_version="apiextensions.k8s.io/v1",
                                      kind="CustomResourceDefinition").create(body=crd)
    waiting = subprocess.Popen(
        ["kubectl", "--kubeconfig", api.kubeconfig, "--cache-dir", str(tmp_path / "cache"),
         "wait", "--for=condition=Established", "crd/things.example.com", "--timeout=20s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        assert waiting.poll() is None, waiting.communicate()  # not established yet: still waiting
        api.mark_ready("apiextensions.k8s.io/v1", "CustomResourceDefinition", "things.example.com")
        out, err = waiting.communicate(timeout=30)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, err
    assert "condition met" in out


# ------------------------------------------------- API semantics through the Python client

def dynamic_client(api):
    return DynamicClient(kubernetes.config.new_client_from_config(config_file=api.kubeconfig))


def test_python_client_sees_server_semantics(emulated_api):
    client = dynamic_client(emulated_api)
    configmaps = client.resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {
        "tier": "front"}}, "data": {"k": "1"}}
    created = configmaps.create(namespace="default", body=body)
    assert created.metadata.uid and created.metadata.creationTimestamp
    rv = created.metadata.resourceVersion
    with pytest.raises(ConflictError):
        configmaps.create(namespace="default", body=body)

    # A merge patch that changes nothing keeps the resource version; a real one bumps it.
    same = configmaps.patch(name="a", namespace="default", body={"data": {"k": "1"}},
                            content_type="application/merge-patch+json")
    assert same.metadata.resourceVersion == rv
    changed = configmaps.patch(name="a", namespace="default", body={"data": {"k": None, "j": "2"}},
                               content_type="application/merge-patch+json")
    assert changed.metadata.resourceVersion != rv and changed.data.to_dict() == {"j": "2"}

    # PUT replaces the whole object, and a stale resourceVersion is refused.
    replaced = configmaps.replace(namespace="default", body=dict(
        body, metadata={"name": "a", "resourceVersion": changed.metadata.resourceVersion},
        data={"only": "this"}))
    assert replaced.data.to_dict() == {"only": "this"} and replaced.metadata.labels is None
    with pytest.raises(ConflictError):
        configmaps.replace(namespace="default", body=dict(
            body, metadata={"name": "a", "resourceVersion": rv}))

    configmaps.create(namespace="kube-system", body={
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "b", "labels": {"tier": "back"}}})
    every = configmaps.get()
    assert every.kind == "ConfigMapList"
    assert sorted(i.metadata.name for i in every.items) == ["a", "b"]
    assert [i.metadata.name for i in configmaps.get(label_selector="tier=back").items] == ["b"]
    assert [i.metadata.name for i in configmaps.get(label_selector="!tier").items] == ["a"]
    by_name = configmaps.get(field_selector="metadata.name=b,metadata.namespace=kube-system")
    assert [i.metadata.name for i in by_name.items] == ["b"]
    assert configmaps.get(field_selector="metadata.namespace=default",
                          label_selector="tier=back").items == []

    configmaps.delete(name="b", namespace="kube-system")
    with pytest.raises(NotFoundError):
        configmaps.get(name="b", namespace="kube-system")
    with pytest.raises(NotFoundError):  # objects need their namespace to exist first
        configmaps.create(namespace="nowhere", body=dict(body, metadata={"name": "c"}))

    verbs = [(e["verb"], e["code"]) for e in emulated_api.journal()]
    assert verbs == [("create", 201), ("create", 409), ("patch", 200), ("patch", 200),
                     ("update", 200), ("update", 409), ("create", 201), ("delete", 200),
                     ("create", 404)]


def test_server_side_apply_shares_equal_fields_and_refuses_conflicts(emulated_api):
    pools = dynamic_client(emulated_api).resources.get(api_version="metallb.io/v1beta1",
                                                       kind="IPAddressPool")
    body = dict(POOL, metadata={"name": "p", "namespace": "default"})
    pools.server_side_apply(body=body, name="p", namespace="default", field_manager="one")
    same = dict(body, spec={"addresses": POOL["spec"]["addresses"]})
    shared = pools.server_side_apply(body=same, name="p", namespace="default",
                                     field_manager="three")
    assert {m.manager: m.fieldsV1.to_dict() for m in shared.metadata.managedFields} == {
        "one": {"f:spec": {"f:addresses": {}, "f:autoAssign": {}}},
        "three": {"f:spec": {"f:addresses": {}}}}

    other = dict(body, spec={"addresses": ["10.0.0.0/24"]})
    with pytest.raises(ConflictError) as error:
        pools.server_side_apply(body=other, name="p", namespace="default", field_manager="two")
    status = json.loads(error.value.body)
    assert status["reason"] == "Conflict"
    assert [(c["field"], c["message"]) for c in status["details"]["causes"]] == [
        (".spec.addresses", 'conflict with "one": .spec.addresses'),
        (".spec.addresses", 'conflict with "three": .spec.addresses')]
    assert emulated_api.get("IPAddressPool", "p", "default")["spec"] == POOL["spec"]

    forced = pools.server_side_apply(body=other, name="p", namespace="default",
                                     field_manager="two", force_conflicts=True)
    assert forced.spec.addresses == ["10.0.0.0/24"]
    assert {m.manager: m.fieldsV1.to_dict() for m in forced.metadata.managedFields} == {
        "one": {"f:spec": {"f:autoAssign": {}}}, "two": {"f:spec": {"f:addresses": {}}}}


def test_status_is_written_only_through_status_or_the_control_api(emulated_api):
    api = emulated_api
    deployments = dynamic_client(api).resources.get(api_version="apps/v1", kind="Deployment")
    created = deployments.create(namespace="default", body={
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}}, "status": {"replicas": 9}})
    assert created.status is None and created.spec.replicas == 1  # defaulted, status dropped
    assert created.metadata.generation == 1

    api.mark_ready("apps/v1", "Deployment", "d", namespace="default")
    status = api.get("Deployment", "d", "default")["status"]
    assert status["readyReplicas"] == 1 and status["observedGeneration"] == 1

    # a spec change bumps generation; the stale status no longer counts as rolled out
    scaled = deployments.patch(name="d", namespace="default", body={"spec": {"replicas": 3}},
                               content_type="application/merge-patch+json")
    assert scaled.metadata.generation == 2 and scaled.status.observedGeneration == 1
    subresource = deployments.subresources["status"].patch(
        name="d", namespace="default", body={"status": {"observedGeneration": 2}},
        content_type="application/merge-patch+json")
    assert subresource.status.observedGeneration == 2 and subresource.metadata.generation == 2
    assert [(e["verb"], e["subresource"]) for e in api.journal()][-1] == ("patch", "status")


def test_crds_required_serves_custom_kinds_once_established(emulated_api_factory):
    api = emulated_api_factory(crds_required=True)
    client = dynamic_client(api)
    kinds = {(k["group"], k["kind"]) for k in api.kinds()}
    assert ("metallb.io", "IPAddressPool") not in kinds
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "ipaddresspools.metallb.io"},
           "spec": {"group": "metallb.io", "scope": "Namespaced",
                    "names": {"kind": "IPAddressPool", "plural": "ipaddresspools"},
                    "versions": [{"name": "v1beta1", "served": True, "storage": True}]}}
    client.resources.get(api_version="apiextensions.k8s.io/v1",
                         kind="CustomResourceDefinition").create(body=crd)
    assert ("metallb.io", "IPAddressPool") not in {(k["group"], k["kind"]) for k in api.kinds()}
    api.mark_ready("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                   "ipaddresspools.metallb.io")
    assert ("metallb.io", "IPAddressPool") in {(k["group"], k["kind"]) for k in api.kinds()}
    conditions = api.get("CustomResourceDefinition", "ipaddresspools.metallb.io")["status"][
        "conditions"]
    assert {"type": "Established", "status": "True"}.items() <= conditions[-1].items()


def test_auto_ready_injects_webhook_ca_bundle_and_keeps_it_on_reapply(emulated_api_factory):
    api = emulated_api_factory(auto_ready=["ValidatingWebhookConfiguration"])
    webhooks = dynamic_client(api).resources.get(
        api_version="admissionregistration.k8s.io/v1", kind="ValidatingWebhookConfiguration")
    body = {"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "metallb"},
            "webhooks": [{"name": "ipaddresspoolvalidationwebhook.metallb.io",
                          "clientConfig": {"service": {"name": "metallb-webhook-service",
                                                       "namespace": "metallb-system"}}}]}
    first = webhooks.server_side_apply(body=body, name="metallb", field_manager=FIELD_MANAGER)
    assert first.webhooks[0].clientConfig.caBundle
    again = webhooks.server_side_apply(body=body, name="metallb", field_manager=FIELD_MANAGER)
    assert again.metadata.resourceVersion == first.metadata.resourceVersion


def test_secret_string_data_is_stored_encoded_and_dry_run_stores_nothing(emulated_api):
    secrets = dynamic_client(emulated_api).resources.get(api_version="v1", kind="Secret")
    body = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
            "metadata": {"name": "peer"}, "stringData": {"password": "s3cret"}}
    dry = secrets.create(namespace="default", body=body, dry_run="All")
    assert dry.data.password == "czNjcmV0" and dry.stringData is None
    assert emulated_api.get("Secret", "peer", "default") is None
    secrets.create(namespace="default", body=body)
    assert emulated_api.get("Secret", "peer", "default")["data"] == {"password": "czNjcmV0"}
    assert [(e["verb"], e["dry_run"], e["changed"]) for e in emulated_api.journal()] == [
        ("create", True, True), ("create", False, True)]


def test_preloaded_objects_and_daemonsets_rolled_out_on_every_node(emulated_api_factory):
    nodes = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "edge-%d" % i}}
             for i in (1, 2)]
    live_pool = {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
                 "metadata": {"name": "default-ipv4-ippool"},
                 "spec": {"cidr": "10.244.0.0/16", "blockSize": 26}}
    api = emulated_api_factory(resources=nodes + [live_pool], auto_ready=["DaemonSet"])
    assert api.get("IPPool", "default-ipv4-ippool")["spec"]["cidr"] == "10.244.0.0/16"
    assert api.journal() == []  # preloading is not traffic

    daemonsets = dynamic_client(api).resources.get(api_version="apps/v1", kind="DaemonSet")
    created = daemonsets.create(namespace="kube-system", body={
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "calico-node"},
        "spec": {"selector": {"matchLabels": {"k": "v"}}}})
    assert created.status.desiredNumberScheduled == 2 and created.status.numberReady == 2

    api.add_object({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "edge-3"}})
    assert len(api.objects(kind="Node")) == 3


def test_annotation_and_label_keys_must_be_qualified_names(emulated_api):
    # Found on the real API server (tests/cluster/test_bringup_real.py): an underscore in a key's
    # prefix is refused there, on the object and on a pod template alike.
    from kubernetes.dynamic.exceptions import UnprocessibleEntityError  # pylint: disable=import-outside-toplevel
    deployments = dynamic_client(emulated_api).resources.get(api_version="apps/v1", kind="Deployment")
    labels = {"app": "a"}
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
            "spec": {"selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels, "annotations": {"edgeops.k8s_network/corefile-sha256": "x"}},
                "spec": {"containers": [{"name": "a", "image": "example.invalid/a:1"}]}}}}
    with pytest.raises(UnprocessibleEntityError) as refused:
        deployments.create(namespace="default", body=body)
    message = json.loads(refused.value.body)["message"]
    assert 'spec.template.annotations: Invalid value: "edgeops.k8s_network/corefile-sha256"' in message
    body["spec"]["template"]["metadata"]["annotations"] = {"edgeops.k8s-network/corefile-sha256": "x"}
    body["metadata"]["labels"] = {"-bad": "x"}
    with pytest.raises(UnprocessibleEntityError):
        deployments.create(namespace="default", body=body)
    del body["metadata"]["labels"]
    assert deployments.create(namespace="default", body=body).metadata.name == "a"


def test_a_namespace_applied_bare_is_recorded_once_before_first_apply(emulated_api):
    # Found on the real API server (tests/cluster/test_bringup_real.py): a Namespace applied with
    # nothing but its name leaves its applier owning no field, so the server keeps no
    # managedFields; the next apply first records what the object holds (the name label and
    # finalizer the server set) under "before-first-apply", a write that moves resourceVersion.
    namespaces = dynamic_client(emulated_api).resources.get(api_version="v1", kind="Namespace")
    bare = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bare"}}
    first = namespaces.server_side_apply(body=bare, name="bare", field_manager=FIELD_MANAGER)
    assert first.metadata.labels.to_dict() == {"kubernetes.io/metadata.name": "bare"}
    assert not first.metadata.managedFields
    second = namespaces.server_side_apply(body=bare, name="bare", field_manager=FIELD_MANAGER)
    assert second.metadata.resourceVersion != first.metadata.resourceVersion
    assert [(m.manager, m.operation, m.fieldsV1.to_dict()) for m in second.metadata.managedFields] == [
        ("before-first-apply", "Update", {"f:metadata": {"f:labels": {"f:kubernetes.io/metadata.name": {}}},
                                          "f:spec": {"f:finalizers": {}}})]
    third = namespaces.server_side_apply(body=bare, name="bare", field_manager=FIELD_MANAGER)
    assert third.metadata.resourceVersion == second.metadata.resourceVersion

    # Declaring the label the server sets anyway gives the applier a field: nothing moves later.
    named = {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "named", "labels": {"kubernetes.io/metadata.name": "named"}}}
    first = namespaces.server_side_apply(body=named, name="named", field_manager=FIELD_MANAGER)
    assert [m.manager for m in first.metadata.managedFields] == [FIELD_MANAGER]
    again = namespaces.server_side_apply(body=named, name="named", field_manager=FIELD_MANAGER)
    assert again.metadata.resourceVersion == first.metadata.resourceVersion


def test_custom_resource_lists_are_atomic_unless_their_crd_keys_them(emulated_api_factory):
    # Found on the real API server: the Installation's ipPools (no list keys in its CRD) is one
    # field; applying another list than the one an earlier writer set conflicts with it.
    def crd(plural, kind, pools_schema):
        return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": "%s.example.org" % plural},
                "spec": {"group": "example.org", "scope": "Cluster",
                         "names": {"plural": plural, "kind": kind},
                         "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                             "openAPIV3Schema": {"type": "object", "properties": {"spec": {
                                 "type": "object", "properties": {"pools": pools_schema}}}}}}]}}
    item = {"type": "object", "properties": {"name": {"type": "string"}, "cidr": {"type": "string"}}}
    api = emulated_api_factory(resources=[
        crd("atomics", "Atomic", {"type": "array", "items": item}),
        crd("keyeds", "Keyed", {"type": "array", "items": item, "x-kubernetes-list-type": "map",
                                "x-kubernetes-list-map-keys": ["name"]})])
    client = dynamic_client(api)
    old = [{"name": "old", "cidr": "10.244.0.0/16"}]
    both = old + [{"name": "new", "cidr": "172.27.0.0/16"}]
    for kind in ("Atomic", "Keyed"):
        api.add_object({"apiVersion": "example.org/v1", "kind": kind, "metadata": {"name": "default"},
                        "spec": {"pools": old}})
    atomics = client.resources.get(api_version="example.org/v1", kind="Atomic")
    body = {"apiVersion": "example.org/v1", "kind": "Atomic", "metadata": {"name": "default"},
            "spec": {"pools": both}}
    with pytest.raises(ConflictError) as error:
        atomics.server_side_apply(body=body, name="default", field_manager=FIELD_MANAGER)
    assert [c["message"] for c in json.loads(error.value.body)["details"]["causes"]] == [
        'conflict with "before-first-apply": .spec.pools']
    forced = atomics.server_side_apply(body=body, name="default", field_manager=FIELD_MANAGER,
                                       force_conflicts=True)
    assert api.get("Atomic", "default")["spec"]["pools"] == both
    assert {m.manager: m.fieldsV1.to_dict() for m in forced.metadata.managedFields} == {
        FIELD_MANAGER: {"f:spec": {"f:pools": {}}}}

    keyeds = client.resources.get(api_version="example.org/v1", kind="Keyed")
    merged = keyeds.server_side_apply(body=dict(body, kind="Keyed", spec={"pools": both[1:]}),
                                      name="default", field_manager=FIELD_MANAGER)
    assert [p["name"] for p in api.get("Keyed", "default")["spec"]["pools"]] == ["old", "new"]
    assert {m.manager for m in merged.metadata.managedFields} == {"before-first-apply", FIELD_MANAGER}


def test_events_are_selected_by_their_involved_object_and_other_fields_are_refused(emulated_api_factory):
    def event(name, involved, reason):
        return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "kube-system"},
                "involvedObject": {"kind": "Deployment", "name": involved, "namespace": "kube-system"},
                "reason": reason, "type": "Warning", "message": "m"}
    api = emulated_api_factory(resources=[event("a", "coredns", "FailedCreate"), event("b", "other", "Scaled")])
    events = dynamic_client(api).resources.get(api_version="v1", kind="Event")
    about = events.get(namespace="kube-system", field_selector="involvedObject.name=coredns")
    assert [i.metadata.name for i in about.items] == ["a"]
    assert [i.metadata.name for i in events.get(field_selector="reason!=FailedCreate").items] == ["b"]
    with pytest.raises(BadRequestError):  # not a field the API server indexes for ConfigMaps
        dynamic_client(api).resources.get(api_version="v1", kind="ConfigMap").get(
            field_selector="involvedObject.name=coredns")


def test_hidden_kinds_are_not_served(emulated_api_factory):
    api = emulated_api_factory(hide_kinds=["DaemonSet"])
    kinds = {(k["group"], k["kind"]) for k in api.kinds()}
    assert ("apps", "DaemonSet") not in kinds and ("apps", "Deployment") in kinds
    with pytest.raises(ResourceNotFoundError):
        dynamic_client(api).resources.get(api_version="apps/v1", kind="DaemonSet")
