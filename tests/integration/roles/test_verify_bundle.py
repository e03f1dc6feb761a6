"""The verify role in bundle mode, and the view of the cluster its apply-mode checks rely on.

Each test runs ``ansible-playbook`` on localhost, as an operator would, and looks at what it wrote
(or, for the view, at what the role's template makes of k8s_info results). No cluster is needed.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
VIEW_TEMPLATE = os.path.join(ROOT, "roles", "verify", "templates", "view.yml.j2")

COMPUTE_NETWORK = {
    "subnet": "192.168.10.0/24",
    "external_service_ips": {"ranges": ["192.168.10.100-192.168.10.119"], "cidrs": [], "count": 20},
    "pod_cidr": "10.244.0.0/16",
    "service_cidr": "10.96.0.0/16",
    "cluster_dns_ip": "10.96.0.10",
    # Not the default, so that a template that ignores the fact shows up.
    "cluster_domain": "edge.example",
}

ROLE_PLAY = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - edgeops.k8s_network.verify
"""


def ansible_playbook():
    local = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return local if os.path.exists(local) else shutil.which("ansible-playbook")


def run(tmp_path, play, extra_vars):
    """Run a playbook; return (returncode, the recap's counters for localhost, output)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (tmp_path / "play.yml").write_text(play)
    (tmp_path / "vars.json").write_text(json.dumps(extra_vars))
    env = dict(
        os.environ,
        HOME=str(home),
        ANSIBLE_REMOTE_TMP=str(home / ".ansible" / "tmp"),
        ANSIBLE_LOCAL_TEMP=str(home / ".ansible" / "tmp"),
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(
        [ansible_playbook(), "-i", "localhost,", "-c", "local", "play.yml", "-e", "@vars.json"],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    recap = re.search(r"^localhost\s*:\s*(.*)$", proc.stdout, re.MULTILINE)
    counters = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", recap.group(1))) if recap else None
    return proc.returncode, counters, proc.stdout + proc.stderr


def bundle_vars(tmp_path, **extra):
    data = {
        "k8s_network_mode": "bundle",
        "k8s_network_bundle_dir": str(tmp_path / "bundle"),
        "compute_network": COMPUTE_NETWORK,
    }
    data.update(extra)
    return data


def render(tmp_path, **extra):
    rc, out, text = run(tmp_path, ROLE_PLAY, bundle_vars(tmp_path, **extra))
    assert rc == 0, text
    objects = list(yaml.safe_load_all((tmp_path / "bundle" / "90-verify.yaml").read_text()))
    return [o for o in objects if o is not None], out


def by_kind_name(objects):
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def test_bundle_holds_the_two_tier_app_in_apply_order(tmp_path):
    objects, _unused = render(tmp_path)

    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Namespace", "edgeops-verify"),
        ("Deployment", "verify-db"),
        ("Service", "verify-db"),
        ("ConfigMap", "verify-web"),
        ("Deployment", "verify-web"),
        ("Service", "verify-web"),
    ]
    assert sorted(os.listdir(str(tmp_path / "bundle"))) == ["90-verify.yaml"]
    for obj in objects[1:]:
        assert obj["metadata"]["namespace"] == "edgeops-verify"
    for obj in objects:
        assert kubernetes_validate.validate(obj, "1.33", strict=True)


def test_services_front_end_load_balancer_and_back_end_cluster_ip(tmp_path):
    objects = by_kind_name(render(tmp_path)[0])
    web, db = objects[("Service", "verify-web")], objects[("Service", "verify-db")]

    assert web["spec"]["type"] == "LoadBalancer"
    assert db["spec"]["type"] == "ClusterIP"
    assert "annotations" not in web["metadata"]
    # Each service selects the pods of its own Deployment.
    for name in ("verify-web", "verify-db"):
        selector = objects[("Service", name)]["spec"]["selector"]
        pod_labels = objects[("Deployment", name)]["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= pod_labels.items()
        assert selector == objects[("Deployment", name)]["spec"]["selector"]["matchLabels"]


def test_replicas_spread_over_nodes_by_preferred_anti_affinity(tmp_path):
    objects = by_kind_name(render(tmp_path)[0])

    for name in ("verify-web", "verify-db"):
        deployment = objects[("Deployment", name)]
        assert deployment["spec"]["replicas"] >= 2
        pod = deployment["spec"]["template"]
        anti = pod["spec"]["affinity"]["podAntiAffinity"]
        # Preferred only: a single-node site must still run every replica.
        assert "requiredDuringSchedulingIgnoredDuringExecution" not in anti
        (term,) = anti["preferredDuringSchedulingIgnoredDuringExecution"]
        assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        assert term["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()


def test_front_end_proxies_to_the_back_end_by_name_through_the_cluster_dns(tmp_path):
    objects = by_kind_name(render(tmp_path)[0])
    conf = objects[("ConfigMap", "verify-web")]["data"]["nginx.conf"]
    web_pod = objects[("Deployment", "verify-web")]["spec"]["template"]["spec"]

    assert "resolver 10.96.0.10 " in conf
    assert "default verify-db.edgeops-verify.svc.edge.example:6379;" in conf
    assert "listen 6379;" in conf and "listen 80;" in conf
    (mount,) = web_pod["containers"][0]["volumeMounts"]
    assert mount["mountPath"] == "/etc/nginx/nginx.conf" and mount["subPath"] == "nginx.conf"
    assert web_pod["volumes"][0]["configMap"]["name"] == "verify-web"


def test_second_run_changes_nothing(tmp_path):
    first = render(tmp_path)[1]
    second = render(tmp_path)[1]

    assert first["changed"] > 0
    assert second["changed"] == 0
    assert second["failed"] == 0


def test_variables_reach_the_objects(tmp_path):
    objects = by_kind_name(render(
        tmp_path,
        verify_namespace="smoke",
        verify_web_replicas="3",  # as an AWX survey passes it
        verify_db_replicas=4,
        verify_web_image="registry.example/nginx:1.27-alpine",
        verify_db_image="registry.example/redis:7-alpine",
        verify_db_port=7000,
        verify_web_port=8080,
        verify_web_load_balancer_ip="192.168.10.105",
    )[0])

    assert ("Namespace", "smoke") in objects
    web, db = objects[("Deployment", "verify-web")], objects[("Deployment", "verify-db")]
    assert web["metadata"]["namespace"] == db["metadata"]["namespace"] == "smoke"
    assert web["spec"]["replicas"] == 3 and db["spec"]["replicas"] == 4
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/nginx:1.27-alpine"
    assert db["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/redis:7-alpine"
    assert objects[("Service", "verify-db")]["spec"]["ports"][0]["port"] == 7000
    assert objects[("Service", "verify-web")]["spec"]["ports"][0]["port"] == 8080
    assert objects[("Service", "verify-web")]["metadata"]["annotations"] == {
        "metallb.universe.tf/loadBalancerIPs": "192.168.10.105"}
    conf = objects[("ConfigMap", "verify-web")]["data"]["nginx.conf"]
    assert "default verify-db.smoke.svc.edge.example:7000;" in conf
    for obj in objects.values():
        kubernetes_validate.validate(obj, "1.33", strict=True)


def test_bad_variable_fails_before_anything_is_written(tmp_path):
    rc, _stdout, text = run(tmp_path, ROLE_PLAY, bundle_vars(tmp_path, verify_web_replicas="several"))

    assert rc != 0
    assert "verify_web_replicas" in text
    assert not (tmp_path / "bundle").exists()


# The apply-mode checks choose pods through the role's view template. These feed it k8s_info-shaped
# results and read what it makes of them.

VIEW_PLAY = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Render the view
      ansible.builtin.copy:
        content: "{{ lookup('ansible.builtin.template', view_template) | from_yaml | to_json }}"
        dest: "{{ view_out }}"
        mode: "0644"
"""


def node(name, taints=(), unschedulable=False):
    spec = {"taints": list(taints)} if taints else {}
    if unschedulable:
        spec["unschedulable"] = True
    return {"metadata": {"name": name}, "spec": spec}


def pod(name, tier, node_name, ip, ready=True, terminating=False):
    meta = {"name": name, "labels": {"app.kubernetes.io/name": tier, "app.kubernetes.io/part-of": "edgeops-verify"}}
    if terminating:
        meta["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if ip:
        status["podIP"] = ip
    return {"metadata": meta, "spec": {"nodeName": node_name}, "status": status}


def view(tmp_path, nodes, pods):
    out = tmp_path / "view.json"
    rc, _stdout, text = run(tmp_path, VIEW_PLAY, {
        "view_template": VIEW_TEMPLATE, "view_out": str(out),
        "verify_nodes": {"resources": nodes}, "verify_pods": {"resources": pods},
    })
    assert rc == 0, text
    return json.loads(out.read_text())


CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def test_view_pairs_a_front_end_and_a_back_end_pod_on_different_nodes(tmp_path):
    nodes = [node("cp", [CONTROL_PLANE_TAINT]), node("w1"), node("w2"), node("w3", unschedulable=True)]
    pods = [
        pod("web-a", "verify-web", "w1", "10.244.1.2"),
        pod("web-b", "verify-web", "w2", "10.244.2.2"),
        pod("db-a", "verify-db", "w1", "10.244.1.3"),
        pod("db-b", "verify-db", "w2", "10.244.2.3"),
    ]
    result = view(tmp_path, nodes, pods)

    assert result["schedulable_nodes"] == ["w1", "w2"]
    assert [p["name"] for p in result["web"]] == ["web-a", "web-b"]
    assert [p["name"] for p in result["db"]] == ["db-a", "db-b"]
    assert result["pair"] == {"web": "web-a", "web_node": "w1", "db": "db-b", "db_ip": "10.244.2.3", "db_node": "w2"}


def test_view_leaves_out_pods_not_ready_terminating_or_without_an_address(tmp_path):
    nodes = [node("w1"), node("w2")]
    pods = [
        pod("web-a", "verify-web", "w1", "10.244.1.2"),
        pod("db-ready", "verify-db", "w1", "10.244.1.3"),
        pod("db-unready", "verify-db", "w2", "10.244.2.3", ready=False),
        pod("db-leaving", "verify-db", "w2", "10.244.2.4", terminating=True),
        pod("db-noip", "verify-db", "w2", None),
    ]
    result = view(tmp_path, nodes, pods)

    assert [p["name"] for p in result["db"]] == ["db-ready"]
    # Every usable pod is on w1 although w2 takes pods: no pair, so the role reports
    # verify_pods_not_spread instead of passing.
    assert result["pair"] == {}
    assert result["pod_nodes"] == ["w1"]
    assert result["schedulable_nodes"] == ["w1", "w2"]


@pytest.mark.parametrize("nodes", [
    [node("only")],
    [node("cp", [CONTROL_PLANE_TAINT]), node("only")],
])
def test_view_on_one_schedulable_node_has_no_pair(tmp_path, nodes):
    pods = [pod("web-a", "verify-web", "only", "10.244.0.2"), pod("db-a", "verify-db", "only", "10.244.0.3")]
    result = view(tmp_path, nodes, pods)

    assert result["pair"] == {}
    assert result["schedulable_nodes"] == ["only"]
