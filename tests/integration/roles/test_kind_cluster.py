"""The kind_cluster role and the kind scenario's skip, without docker or kind.

The role is run by ``ansible-playbook`` on localhost. Where it would call docker and kind, it calls
stand-ins written by the test (test doubles: small shell scripts that log their arguments, keep the
list of clusters in a file and print a canned ``docker network inspect``). They show what the role
asks of the tools, its idempotence and its one-line failures; they prove nothing about kind itself.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
RUN_OR_SKIP = os.path.join(ROOT, "molecule", "default", "run-or-skip.sh")

FAKE_KIND = r"""#!/bin/bash
echo "kind $*" >> "$FAKE_LOG"
name=kind
kubeconfig=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[$i]}" in
        --name) name=${args[$((i + 1))]} ;;
        --kubeconfig) kubeconfig=${args[$((i + 1))]} ;;
    esac
done
case "$1 $2" in
    "version "*) echo "kind v0.29.0 go1.24.2 linux/amd64" ;;
    "get clusters")
        if [ -s "$FAKE_STATE" ]; then cat "$FAKE_STATE"; else echo "No kind clusters found." >&2; fi ;;
    "create cluster")
        echo "$name" >> "$FAKE_STATE"
        printf 'apiVersion: v1\nkind: Config\ncurrent-context: kind-%s\n' "$name" > "$kubeconfig" ;;
    "get kubeconfig") printf 'apiVersion: v1\nkind: Config\ncurrent-context: kind-%s\n' "$name" ;;
    "get nodes") printf '%s-control-plane\n%s-worker\n%s-worker2\n' "$name" "$name" "$name" ;;
    "delete cluster") grep -vx "$name" "$FAKE_STATE" > "$FAKE_STATE.new" || true; mv "$FAKE_STATE.new" "$FAKE_STATE" ;;
    *) echo "unexpected: $*" >&2; exit 64 ;;
esac
"""

FAKE_DOCKER = r"""#!/bin/bash
echo "docker $*" >> "$FAKE_LOG"
case "$1" in
    version)
        if [ -n "$FAKE_DAEMON_DOWN" ]; then
            echo "Client: 28.2.2" ; echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1
        fi
        echo "Server: 28.2.2" ;;
    image)
        if [ -n "$FAKE_IMAGE_MISSING" ]; then echo "Error response from daemon: No such image: $3" >&2; exit 1; fi
        echo "[{}]" ;;
    pull) echo "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host" >&2; exit 1 ;;
    network) cat "$FAKE_NETWORK" ;;
    *) echo "unexpected: $*" >&2; exit 64 ;;
esac
"""


def network(name="edgeops", ipv4=({"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"},), nodes=None, mtu="1500"):
    nodes = nodes if nodes is not None else {
        name + "-control-plane": "172.18.0.2", name + "-worker": "172.18.0.4", name + "-worker2": "172.18.0.3"}
    containers = dict(("id%d" % i, {"Name": n, "IPv4Address": ip + "/16", "IPv6Address": ""})
                      for i, (n, ip) in enumerate(sorted(nodes.items())))
    # Another container on the network, such as a local registry: not a node.
    containers["other"] = {"Name": "kind-registry", "IPv4Address": "172.18.0.5/16", "IPv6Address": ""}
    return {
        "Name": "kind",
        "IPAM": {"Driver": "default", "Config": [{"Subnet": "fc00:f853:ccd:e793::/64"}] + list(ipv4)},
        "Options": {"com.docker.network.driver.mtu": mtu} if mtu else {},
        "Containers": containers,
    }


def ansible_playbook():
    local = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return local if os.path.exists(local) else shutil.which("ansible-playbook")


def write_exe(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


class Site(object):
    """A scratch HOME with the stand-ins for docker and kind, and a way to run plays there."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        self.kind = write_exe(bin_dir / "kind", FAKE_KIND)
        self.docker = write_exe(bin_dir / "docker", FAKE_DOCKER)
        self.log = tmp_path / "calls.log"
        self.state = tmp_path / "clusters"
        self.network = tmp_path / "network.json"
        self.work = tmp_path / "work"
        self.env = {}
        self.set_network(network())

    def set_network(self, data):
        self.network.write_text(json.dumps([data]))

    def calls(self):
        return self.log.read_text().splitlines() if self.log.exists() else []

    def run(self, play_vars, tasks=None, **env):
        base = {
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "kind_cluster_kind_command": self.kind,
            "kind_cluster_docker_command": self.docker,
            "kind_cluster_work_dir": str(self.work),
        }
        base.update(play_vars)
        play = [{
            "hosts": "localhost",
            "gather_facts": False,
            "vars": base,
            "tasks": tasks or [{"name": "Run the role", "ansible.builtin.include_role": {"name": "edgeops.k8s_network.kind_cluster"}}],
        }]
        (self.tmp / "play.yml").write_text(yaml.safe_dump(play))
        environ = dict(
            os.environ,
            HOME=str(self.home),
            ANSIBLE_REMOTE_TMP=str(self.home / ".ansible" / "tmp"),
            ANSIBLE_LOCAL_TEMP=str(self.home / ".ansible" / "tmp"),
            ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
            ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            FAKE_LOG=str(self.log),
            FAKE_STATE=str(self.state),
            FAKE_NETWORK=str(self.network),
        )
        environ.pop("ANSIBLE_CONFIG", None)
        environ.update(env)
        proc = subprocess.run([ansible_playbook(), "-i", "localhost,", "-c", "local", "play.yml"],
                              cwd=str(self.tmp), env=environ, capture_output=True, text=True, timeout=300, check=False)
        recap = re.search(r"^localhost\s*:\s*(.*)$", proc.stdout, re.MULTILINE)
        counters = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", recap.group(1))) if recap else {}
        return proc.returncode, counters, proc.stdout + proc.stderr


@pytest.fixture
def site(tmp_path):
    return Site(tmp_path)


def failure_message(text):
    found = re.search(r'"msg": "((?:[^"\\]|\\.)*)"', text)
    assert found, text
    return json.loads('"%s"' % found.group(1))


# -- the kind configuration, rendered without docker or kind ---------------------------------------

def test_render_only_writes_the_kind_config_from_the_settings(site):
    rc, _stdout, text = site.run({
        "kind_cluster_render_only": True,
        "kind_cluster_name": "lab",
        "kind_cluster_workers": "3",
        "kind_cluster_node_image": "kindest/node:v1.32.5",
        "compute_network_pod_cidr": "10.44.0.0/16",
        "compute_network_service_cidr": "10.45.0.0/20",
        # Neither tool may be called: these would fail.
        "kind_cluster_kind_command": "/nonexistent/kind",
        "kind_cluster_docker_command": "/nonexistent/docker",
    })
    assert rc == 0, text

    config = yaml.safe_load((site.work / "lab-config.yaml").read_text())
    assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["name"] == "lab"
    assert config["networking"] == {"disableDefaultCNI": True, "podSubnet": "10.44.0.0/16", "serviceSubnet": "10.45.0.0/20"}
    assert [n["role"] for n in config["nodes"]] == ["control-plane", "worker", "worker", "worker"]
    assert {n["image"] for n in config["nodes"]} == {"kindest/node:v1.32.5"}
    assert "kubeadmConfigPatches" not in config
    assert site.calls() == []


def test_render_only_defaults_and_dns_domain_patch(site):
    rc, _stdout, text = site.run({"kind_cluster_render_only": True, "compute_network_cluster_domain": "edge.example"})
    assert rc == 0, text

    config = yaml.safe_load((site.work / "edgeops-config.yaml").read_text())
    assert config["networking"]["podSubnet"] == "172.27.0.0/16"
    assert config["networking"]["serviceSubnet"] == "172.28.0.0/16"
    assert len(config["nodes"]) == 3
    (patch,) = config["kubeadmConfigPatches"]
    assert yaml.safe_load(patch) == {"kind": "ClusterConfiguration", "networking": {"dnsDomain": "edge.example"}}


# -- create, kubeconfig, derived settings, idempotence ---------------------------------------------

def test_create_writes_kubeconfig_and_settings_and_a_rerun_changes_nothing(site):
    rc, first, text = site.run({})
    assert rc == 0, text
    config_path = str(site.work / "edgeops-config.yaml")
    kubeconfig = site.work / "edgeops.kubeconfig"
    creates = [c for c in site.calls() if c.startswith("kind create")]
    assert creates == ["kind create cluster --name edgeops --config %s --kubeconfig %s" % (config_path, kubeconfig)]
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert "current-context: kind-edgeops" in kubeconfig.read_text()
    # The kubeconfig holds keys: never in the output.
    assert "current-context" not in text

    settings = yaml.safe_load((site.work / "edgeops-settings.yml").read_text())
    assert settings == {
        "compute_network_interface": "eth0",
        "compute_network_subnet": "172.18.0.0/16",
        "compute_network_gateway": "172.18.0.1",
        "compute_network_node_ips": ["172.18.0.2", "172.18.0.4", "172.18.0.3"],
        "compute_network_external_service_ips": "172.18.255.240-172.18.255.254",
        "compute_network_pod_cidr": "172.27.0.0/16",
        "compute_network_service_cidr": "172.28.0.0/16",
        "compute_network_cluster_domain": "cluster.local",
        "compute_network_mtu": 1500,
        "compute_network_gather_nodes": False,
        "compute_network_probe": False,
        "k8s_network_mode": "apply",
        "k8s_network_kubeconfig": str(kubeconfig),
        "k8s_network_context": "kind-edgeops",
    }
    assert first["changed"] > 0

    before = len(site.calls())
    rc, second, text = site.run({})
    assert rc == 0, text
    assert second["changed"] == 0, text
    assert not [c for c in site.calls()[before:] if c.startswith(("kind create", "docker pull"))]


def test_derived_settings_pass_the_compute_network_check(site):
    tasks = [
        {"name": "Create the cluster", "ansible.builtin.include_role": {"name": "edgeops.k8s_network.kind_cluster"}},
        {"name": "Check its compute network", "ansible.builtin.include_role": {"name": "edgeops.k8s_network.compute_network"}},
        {"name": "Keep the result", "ansible.builtin.copy": {
            "content": "{{ compute_network | to_json }}", "dest": str(site.tmp / "network.out"), "mode": "0644"}},
    ]
    rc, _stdout, text = site.run({}, tasks=tasks)
    assert rc == 0, text

    checked = json.loads((site.tmp / "network.out").read_text())
    assert checked["subnet"] == "172.18.0.0/16"
    assert checked["external_service_ips"]["ranges"] == ["172.18.255.240-172.18.255.254"]
    assert checked["external_service_ips"]["count"] == 15
    assert checked["node_ips"]["count"] == 3
    assert checked["pod_cidr"] == "172.27.0.0/16"


@pytest.mark.parametrize("prefix, subnet, gateway, expected", [
    (24, "172.18.0.0/16", "172.18.0.1", "172.18.255.0-172.18.255.254"),
    (28, "10.89.0.0/24", None, "10.89.0.240-10.89.0.254"),
    (30, "192.168.49.0/24", "192.168.49.1", "192.168.49.252-192.168.49.254"),
])
def test_carving_follows_the_subnet_and_prefix(site, prefix, subnet, gateway, expected):
    ipv4 = {"Subnet": subnet}
    if gateway:
        ipv4["Gateway"] = gateway
    base = subnet.split("/")[0].rsplit(".", 1)[0]
    site.set_network(network(ipv4=(ipv4,), mtu=None, nodes={
        "edgeops-control-plane": base + ".2", "edgeops-worker": base + ".3", "edgeops-worker2": base + ".4"}))
    rc, _stdout, text = site.run({"kind_cluster_service_ip_prefix": prefix})
    assert rc == 0, text

    settings = yaml.safe_load((site.work / "edgeops-settings.yml").read_text())
    assert settings["compute_network_external_service_ips"] == expected
    assert settings["compute_network_subnet"] == subnet
    # Without a gateway in the IPAM config, docker's own choice: the first host.
    assert settings["compute_network_gateway"] == (gateway or base + ".1")
    assert settings["compute_network_mtu"] == ""


def test_given_external_service_ips_are_taken_as_they_are(site):
    rc, _stdout, text = site.run({"kind_cluster_external_service_ips": "172.18.200.10-172.18.200.20"})
    assert rc == 0, text
    settings = yaml.safe_load((site.work / "edgeops-settings.yml").read_text())
    assert settings["compute_network_external_service_ips"] == "172.18.200.10-172.18.200.20"


@pytest.mark.parametrize("network_data, variables, expected", [
    (network(ipv4=()), {}, "no IPv4 subnet"),
    (network(nodes={"edgeops-control-plane": "172.18.0.2"}), {}, "nodes without an IPv4 address on it: 2 of 3"),
    (network(), {"kind_cluster_service_ip_prefix": 16}, "must be longer than the subnet 172.18.0.0/16"),
    (network(), {"kind_cluster_service_ip_prefix": 31}, "at most /30"),
])
def test_unusable_network_fails_with_its_code(site, network_data, variables, expected):
    site.set_network(network_data)
    rc, _stdout, text = site.run(variables)

    assert rc != 0
    message = failure_message(text)
    assert message.startswith("[kind_cluster_network_unusable] docker network kind: ")
    assert expected in message
    assert not (site.work / "edgeops-settings.yml").exists()


# -- missing prerequisites: one line, nothing created ----------------------------------------------

@pytest.mark.parametrize("variables, env, expected", [
    ({"kind_cluster_docker_command": "/nonexistent/docker"}, {}, "docker: "),
    ({}, {"FAKE_DAEMON_DOWN": "1"}, "docker: Cannot connect to the Docker daemon"),
    ({"kind_cluster_kind_command": "/nonexistent/kind"}, {}, "kind: "),
    ({"kind_cluster_pull_image": "false"}, {"FAKE_IMAGE_MISSING": "1"},
     "node image kindest/node:v1.33.1 is not on this machine (kind_cluster_pull_image is off)"),
    ({}, {"FAKE_IMAGE_MISSING": "1"}, "node image kindest/node:v1.33.1 is not on this machine and could not be pulled: "),
])
def test_missing_prerequisite_fails_early_in_one_line(site, variables, env, expected):
    rc, _stdout, text = site.run(variables, **env)

    assert rc != 0
    message = failure_message(text)
    assert message.startswith("[kind_cluster_prerequisite_missing] " + expected), message
    assert "\n" not in message
    assert not [c for c in site.calls() if c.startswith("kind create")]


# -- absent ----------------------------------------------------------------------------------------

def test_absent_deletes_the_cluster_and_its_files_once(site):
    rc, _stdout, text = site.run({})
    assert rc == 0, text
    assert (site.work / "edgeops.kubeconfig").exists()

    rc, first, text = site.run({"kind_cluster_state": "absent"})
    assert rc == 0, text
    assert "kind delete cluster --name edgeops" in site.calls()
    assert not (site.work / "edgeops.kubeconfig").exists()
    assert not (site.work / "edgeops-settings.yml").exists()
    assert first["changed"] > 0

    rc, second, text = site.run({"kind_cluster_state": "absent"})
    assert rc == 0, text
    assert second["changed"] == 0
    assert site.calls().count("kind delete cluster --name edgeops") == 1


# -- the scenario's skip ---------------------------------------------------------------------------

def run_or_skip(tmp_path, tools):
    """Run molecule/default/run-or-skip.sh with a PATH holding only the given stand-ins."""
    bin_dir = tmp_path / "skip-bin"
    bin_dir.mkdir()
    os.symlink(shutil.which("dirname"), str(bin_dir / "dirname"))
    for name, text in tools.items():
        write_exe(bin_dir / name, text)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    return subprocess.run(["/bin/bash", RUN_OR_SKIP], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("tools, reason", [
    ({}, "docker is not installed"),
    ({"docker": "#!/bin/bash\nexit 1\n"}, "the docker daemon does not answer"),
    ({"docker": "#!/bin/bash\nexit 0\n"}, "kind is not installed"),
    ({"docker": '#!/bin/bash\n[ "$1" = image ] && exit 1\nexit 0\n', "kind": "#!/bin/bash\nexit 0\n"},
     "kind node image kindest/node:v1.33.1 is not on this machine (docker pull kindest/node:v1.33.1)"),
])
def test_kind_scenario_skips_in_one_line(tmp_path, tools, reason):
    proc = run_or_skip(tmp_path, tools)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "SKIP molecule/default: %s\n" % reason


def test_skip_script_and_role_agree_on_the_node_image():
    with open(os.path.join(ROOT, "roles", "kind_cluster", "defaults", "main.yml")) as handle:
        role_image = yaml.safe_load(handle)["kind_cluster_node_image"]
    with open(RUN_OR_SKIP) as handle:
        script_image = re.search(r"KIND_CLUSTER_NODE_IMAGE:-([^}]+)}", handle.read()).group(1)
    with open(os.path.join(ROOT, "molecule", "default", "molecule.yml")) as handle:
        scenario = handle.read()

    assert script_image == role_image
    assert "default('%s', true)" % role_image in scenario
