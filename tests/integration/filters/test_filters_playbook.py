"""The filters through ansible-playbook: by FQCN, through Jinja, on Ansible's own data types.

Two kinds of play run on localhost:
- one written here, asserting on every filter, on their coded errors, and on the hand-over from
  loadbalancer_ips(detail=true) to metallb_config's ``assigned``;
- one per plugin built from its EXAMPLES, so the documentation is known to run: a ``debug`` task
  followed by a ``# => value`` comment becomes an assertion that it printed that value, and the
  ``kubernetes.core.k8s_info`` task (no cluster here) is replaced by a fixed k8s_info result.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FILTERS = os.path.join(ROOT, "plugins", "filter")
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(ROOT, ".build", "collections")
NAMES = ["ip_range_size", "ip_range_cidrs", "ip_range_contains", "ip_ranges_overlap", "loadbalancer_ips"]


def _ansible_playbook():
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    found = beside if os.path.exists(beside) else shutil.which("ansible-playbook")
    if not found:
        pytest.skip("ansible-playbook is not installed")
    return found


def service(namespace, name, ip=None, type_="LoadBalancer"):
    return {
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"type": type_},
        "status": {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]} if ip else {}},
    }


# What kubernetes.core.k8s_info registers for kind=Service (list items carry no kind).
K8S_INFO = {
    "changed": False,
    "failed": False,
    "api_found": True,
    "resources": [
        service("shop", "web", "192.168.10.20"),
        service("shop", "api", "192.168.10.21"),
        service("shop", "db", type_="ClusterIP"),
        service("shop", "pending"),
    ],
}

PLAY_VARS = {
    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    "compute_network_external_service_ips": "192.168.10.20-192.168.10.29",
}


# ansible-core no longer ships a JSON stdout callback (it moved to ansible.posix); this one records
# every task result of the run in a file, which is all these tests read.
RECORDER = """
import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_results"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.results = {}

    def _record(self, result, status):
        data = dict(result._result)
        data["status"] = status
        self.results[result._task.get_name()] = json.loads(json.dumps(data, default=str))

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["RECORD_RESULTS_TO"], "w") as handle:
            json.dump(self.results, handle)
"""


def run_play(tmp_path, tasks, play_vars=None):
    """Run the tasks on localhost; returns ``{task name: result}`` with a ``status`` in each."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    callbacks = tmp_path / "callback_plugins"
    callbacks.mkdir(exist_ok=True)
    (callbacks / "record_results.py").write_text(RECORDER)
    record = tmp_path / "results.json"
    variables = dict(PLAY_VARS)
    variables.update(play_vars or {})
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump(
        [{"name": "filters", "hosts": "localhost", "connection": "local", "gather_facts": False,
          "vars": variables, "tasks": tasks}], sort_keys=False))
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_CALLBACK_PLUGINS": str(callbacks),
        "RECORD_RESULTS_TO": str(record),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "HOME": str(home),
        "ANSIBLE_REMOTE_TMP": str(home / "remote_tmp"),
        "ANSIBLE_LOCAL_TEMP": str(home / "local_tmp"),
    })
    env.pop("ANSIBLE_CONFIG", None)
    completed = subprocess.run(
        [_ansible_playbook(), "-i", "localhost,", str(playbook)],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    output = completed.stdout[-4000:] + completed.stderr[-2000:]
    assert completed.returncode == 0, output
    assert record.exists(), output
    results = json.loads(record.read_text())
    # Failures inside a block are rescued there and checked by the rescue's assert.
    failed = dict((name, r.get("msg")) for name, r in results.items()
                  if r["status"] == "failed" and not name.endswith(": must fail"))
    assert not failed, (failed, output)
    return results


def expect(name, expression, expected):
    """A debug task printing ``expression`` and an assert that it printed ``expected``."""
    register = "got_" + re.sub(r"\W+", "_", name)
    return [
        {"name": name, "ansible.builtin.debug": {"msg": "{{ %s }}" % expression}, "register": register},
        {"name": "check " + name, "ansible.builtin.assert": {
            "that": ["%s.msg == expected" % register],
            "fail_msg": "%s gave {{ %s.msg }}, expected {{ expected }}" % (expression, register)},
         "vars": {"expected": expected}},
    ]


def expect_error(name, expression, words):
    """A task that must fail, and checks of its message."""
    return [{"name": name, "block": [
        {"name": name + ": must fail", "ansible.builtin.debug": {"msg": "{{ %s }}" % expression}},
        {"name": name + ": did not fail", "ansible.builtin.fail": {"msg": "no error from %s" % expression}},
    ], "rescue": [
        {"name": "check " + name, "ansible.builtin.assert": {
            "that": ["%r in ansible_failed_result.msg" % word for word in words]
            + ["'Traceback' not in ansible_failed_result.msg",
               "ansible_failed_task.name == %r" % (name + ": must fail")]}},
    ]}]


def test_every_filter_by_fqcn(tmp_path):
    tasks = []
    tasks += expect("size of a range", "'192.168.10.20-192.168.10.29' | edgeops.k8s_network.ip_range_size", 10)
    tasks += expect("size of a /8", "'10.0.0.0/8' | edgeops.k8s_network.ip_range_size", 2 ** 24)
    tasks += expect("size of an IPv6 /64 as text", "'2001:db8::/64' | edgeops.k8s_network.ip_range_size | string",
                    str(2 ** 64))
    tasks += expect("size of a list var", "node_ips | edgeops.k8s_network.ip_range_size", 6)
    tasks += expect("cidrs", "'192.168.10.20-192.168.10.29' | edgeops.k8s_network.ip_range_cidrs",
                    ["192.168.10.20/30", "192.168.10.24/30", "192.168.10.28/31"])
    tasks += expect("cidrs of IPv6", "'2001:db8::-2001:db8::1:ffff' | edgeops.k8s_network.ip_range_cidrs",
                    ["2001:db8::/111"])
    tasks += expect("contains", "'192.168.10.0/24' | edgeops.k8s_network.ip_range_contains(node_ips)", True)
    tasks += expect("does not contain", "node_ips | edgeops.k8s_network.ip_range_contains('192.168.10.16')", False)
    tasks += expect("contains by keyword", "'10.0.0.0/8' | edgeops.k8s_network.ip_range_contains(item='10.1.2.3')",
                    True)
    tasks += expect("overlap of a supernet", "'10.233.0.0/16' | edgeops.k8s_network.ip_ranges_overlap('10.233.0.0/18')",
                    True)
    tasks += expect("no overlap", "node_ips | edgeops.k8s_network.ip_ranges_overlap("
                    "compute_network_external_service_ips)", False)
    tasks += expect("no overlap across families", "'0.0.0.0/0' | edgeops.k8s_network.ip_ranges_overlap('::/0')", False)
    tasks += expect("loadbalancer ips", "services | edgeops.k8s_network.loadbalancer_ips",
                    ["192.168.10.20", "192.168.10.21"])
    tasks += expect("loadbalancer ips of a list", "services.resources | edgeops.k8s_network.loadbalancer_ips",
                    ["192.168.10.20", "192.168.10.21"])
    tasks += expect("loadbalancer ips in detail", "services | edgeops.k8s_network.loadbalancer_ips(detail=true)",
                    [{"namespace": "shop", "name": "web", "ip": "192.168.10.20"},
                     {"namespace": "shop", "name": "api", "ip": "192.168.10.21"}])
    tasks += expect_error("reversed range", "'10.0.0.9-10.0.0.1' | edgeops.k8s_network.ip_range_size",
                          ["range_reversed", "10.0.0.9-10.0.0.1"])
    tasks += expect_error("garbage", "'10.1' | edgeops.k8s_network.ip_range_cidrs", ["invalid_address", "10.1"])
    tasks += expect_error("mixed family", "'10.0.0.0/8' | edgeops.k8s_network.ip_range_contains('10.0.0.1-::1')",
                          ["mixed_family", "item"])
    tasks += expect_error("bad other side", "'10.0.0.0/8' | edgeops.k8s_network.ip_ranges_overlap('10.0.0.0/40')",
                          ["invalid_address", "other"])
    tasks += expect_error("failed k8s_info", "failed_lookup | edgeops.k8s_network.loadbalancer_ips",
                          ["invalid_k8s_result", "Unauthorized"])
    tasks += [
        {"name": "pools that keep every assigned IP",
         "edgeops.k8s_network.metallb_config": {
             "pools": [{"name": "default", "addresses": "{{ compute_network_external_service_ips }}"}],
             "assigned": "{{ services | edgeops.k8s_network.loadbalancer_ips(detail=true) }}"},
         "register": "kept"},
        {"name": "pools that drop one",
         "edgeops.k8s_network.metallb_config": {
             "pools": [{"name": "default", "addresses": "192.168.10.20/32"}],
             "assigned": "{{ services | edgeops.k8s_network.loadbalancer_ips(detail=true) }}"},
         "register": "dropped", "ignore_errors": True},
        {"name": "check the orphan guard saw the detail form",
         "ansible.builtin.assert": {"that": [
             "kept.orphaned == []",
             "dropped is failed",
             "'metallb_ips_orphaned' in dropped.msg",
             "dropped.orphaned == [{'namespace': 'shop', 'name': 'api', 'ip': '192.168.10.21'}]",
         ]}},
    ]
    results = run_play(tmp_path, tasks, {
        "node_ips": ["192.168.10.11-192.168.10.14", "192.168.10.15,192.168.10.17"],
        "services": K8S_INFO,
        "failed_lookup": {"failed": True, "msg": "Unauthorized", "resources": []},
    })
    checks = [name for name in results if name.startswith("check ")]
    assert len(checks) == 21
    for name in checks:
        assert results[name]["status"] == "ok", (name, results[name])


# ---------------------------------------------------------------------------
# EXAMPLES of each plugin, run as written
# ---------------------------------------------------------------------------

def example_tasks(name):
    """The plugin's EXAMPLES as tasks, each ``# => value`` turned into an assertion."""
    path = os.path.join(FILTERS, name + ".py")
    with open(path) as handle:
        source = handle.read()
    text = re.search(r'^EXAMPLES = r"""\n(.*?)^"""', source, re.M | re.S).group(1)
    blocks = re.split(r"(?m)^(?=- name: )", text)
    tasks, expectations = [], 0
    for index, block in enumerate(b for b in blocks if b.strip()):
        task = yaml.safe_load(block)[0]
        if "kubernetes.core.k8s_info" in task:
            # No cluster here: what the task would have registered.
            task = {"name": task["name"], "ansible.builtin.set_fact": {task["register"]: K8S_INFO}}
        tasks.append(task)
        shown = re.search(r"(?m)^\s*# => (.*)$", block)
        if shown:
            assert "ansible.builtin.debug" in task, "a '# =>' comment follows a debug task: %s" % task["name"]
            register = "example_%d" % index
            task["register"] = register
            tasks.append({"name": "check: " + task["name"], "ansible.builtin.assert": {
                "that": ["%s.msg == expected" % register],
                "fail_msg": "printed {{ %s.msg }}, the example says {{ expected }}" % register},
                "vars": {"expected": yaml.safe_load(shown.group(1))}})
            expectations += 1
    return tasks, expectations


@pytest.mark.parametrize("name", NAMES)
def test_examples_run_and_print_what_they_say(tmp_path, name):
    tasks, expectations = example_tasks(name)
    assert expectations >= 2, "every filter shows at least two results in its EXAMPLES"
    results = run_play(tmp_path, tasks)
    assert len(results) == len(tasks)
    for task in tasks:
        assert results[task["name"]]["status"] == "ok", (task["name"], results[task["name"]])
