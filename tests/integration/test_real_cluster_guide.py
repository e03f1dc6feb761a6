"""docs/scenarios/real-cluster.md as a new user follows it, as far as a machine without the cluster can.

Every variable the guide names exists (in a role's argument spec; a name there that is no
variable is a code in docs/codes.md); its example inventory parses,
puts the nodes in edge_nodes and passes the compute network check; every ansible-playbook command
it shows passes --syntax-check with that inventory. The commands that need the cluster (kubectl,
the bring-up itself) are what tests/integration/roles and tests/cluster run against an API.
"""

import glob
import json
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GUIDE = os.path.join(ROOT, "docs", "scenarios", "real-cluster.md")
BIN = os.path.dirname(sys.executable)
# The names a user sets or reads: every role's prefix, and the shared k8s_network_ ones.
NAMED = re.compile(r"`((?:compute_network|calico|metallb|coredns|verify|kind_cluster|k8s_network)_[a-z0-9_]+)")


def guide():
    with open(GUIDE) as handle:
        return handle.read()


def spec_options():
    options = set()
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")):
        with open(path) as handle:
            for entry in yaml.safe_load(handle)["argument_specs"].values():
                options.update(entry.get("options", {}))
    return options


def documented_codes():
    codes = set()
    for path in glob.glob(os.path.join(ROOT, "docs", "codes*.md")):
        with open(path) as handle:
            codes.update(line.split("`")[1] for line in handle if line.startswith("| `"))
    return codes


def files(text):
    """The guide's example files: ``{path: content}`` from the blocks after ``<!-- file: PATH -->``."""
    found = {}
    for path, block in re.findall(r"<!-- file: (\S+) -->\n\n((?:    .*\n|\n)+)", text):
        found[path] = "\n".join(line[4:] for line in block.rstrip("\n").splitlines()) + "\n"
    return found


def commands(text, program):
    return [line.strip() for line in text.splitlines() if line.startswith("    " + program + " ")]


def environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "K8S_AUTH_")) and k != "KUBECONFIG"}
    env.update(HOME=str(tmp_path / "home"), PATH=BIN + os.pathsep + env.get("PATH", ""),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "home" / "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH",
                                                       os.path.join(ROOT, ".build", "collections")))
    return env


def site(tmp_path):
    for path, content in files(guide()).items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    (tmp_path / "home" / "tmp").mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.join(ROOT, "playbooks"), str(tmp_path / "playbooks"))
    return environment(tmp_path)


def test_every_variable_the_guide_names_exists():
    named = set(NAMED.findall(guide()))
    assert {"k8s_network_kubeconfig", "calico_install", "calico_manifest_dir", "metallb_manifest_dir"} <= named
    # Finding codes share the prefixes (calico_not_ready): those must be documented codes instead.
    assert sorted(named - spec_options() - documented_codes()) == []


def test_the_example_inventory_puts_its_nodes_in_edge_nodes(tmp_path):
    env = site(tmp_path)
    assert sorted(files(guide())) == ["inventories/site-a/group_vars/all.yml", "inventories/site-a/hosts.yml"]
    listed = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", "inventories/site-a", "--list"],
                            cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert data["edge_nodes"]["hosts"] == ["edge-1", "edge-2"]
    hostvars = data["_meta"]["hostvars"]["edge-1"]
    assert hostvars["ansible_host"] == "10.0.5.11" and hostvars["k8s_network_mode"] == "apply"
    for command in commands(guide(), "ansible-inventory"):
        run = subprocess.run(["bash", "-c", command], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                             check=False)
        assert run.returncode == 0, "%s\n%s" % (command, run.stderr)


def test_the_example_settings_pass_the_compute_network_check(tmp_path):
    env = site(tmp_path)
    # The nodes are not there: their facts and the probe are left out, nothing connects to them.
    run = subprocess.run([os.path.join(BIN, "ansible-playbook"), "playbooks/validate.yml", "-i", "inventories/site-a",
                          "-e", "compute_network_gather_nodes=false", "-e", "compute_network_probe=false",
                          "-e", "ansible_connection=local", "-e", "ansible_python_interpreter=" + sys.executable],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    assert '"cluster_dns_ip": "10.96.0.10"' in run.stdout


def test_every_ansible_playbook_command_of_the_guide_passes_syntax_check(tmp_path):
    env = site(tmp_path)
    shown = commands(guide(), "ansible-playbook")
    assert len(shown) >= 4
    for command in shown:
        # -K would prompt for the become password, which a syntax check does not need.
        checked = re.sub(r" -K(?= )", "", command) + " --syntax-check"
        run = subprocess.run(["bash", "-c", checked], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                             check=False, timeout=600)
        assert run.returncode == 0, "%s\n%s%s" % (checked, run.stdout, run.stderr)
