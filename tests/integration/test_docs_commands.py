# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every command the docs show, run as a new user runs it, or listed here with why it cannot be.

The docs are README.md, CONTRIBUTING.md, docs/*.md, docs/scenarios/*.md and roles/*/README.md.
Their commands are the lines of their shell code blocks: fenced ones (sh, bash, console, shell,
or no language) and indented ones whose first line is a command rather than YAML or a listing.
In a block with ``$ `` prompts only the prompted lines are commands and the rest is their
output, which the run must show (``...`` stands for anything); a block without prompts is
commands only.

Each command either runs, offline, in one scratch clone of the checkout (its tracked files as
they are now, with this checkout's .venv; ``make venv`` sets up the rest there, as for a new
user), in the order the docs give them, and must exit 0 (or fail, where its shown output is a
failure, with that output), or it is in NOT_RUN with the reason and, where one exists, the test
that runs it instead. A command that is neither fails with its file and line; an entry of
NOT_RUN that no doc shows any more fails too, and so does a covering test that does not exist.
Where a command stands for what it makes (a download), STAND_INS makes the same files from
../shared, so that the commands after it run on them.
"""

import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
DOCS = (["README.md", "CONTRIBUTING.md"]
        + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
        + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "scenarios", "*.md")))
        + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "roles", "*", "README.md"))))
SHELL_FENCES = ("", "sh", "bash", "console", "shell")
# The first line of an indented block that is data, not a command: a YAML key or list item, a
# bracketed finding, an elision, or an image reference.
DATA_LINE = re.compile(r"^(?:[\w.-]+:(?:\s|$)|- |\[|\.\.\.|[\w.-]+(?:/[\w.-]+)+:[\w.-]+$)")
OFFLINE = "http://127.0.0.1:9"  # nothing listens there: a download fails at once

CLUSTER = "needs a running Kubernetes cluster"
REAL_CLUSTER = "needs a real kubeadm cluster and its SSH nodes"
BENCH = "starts or uses the cluster bench (a real control plane); not started by this suite"
NETWORK = "downloads from the internet"
# Commands that cannot run here: {command as the doc shows it (continuations joined, comment
# dropped): (why, the test that runs it instead or None)}.
NOT_RUN = {
    "make test": ("runs every suite, this one included: it would recurse", None),
    # CONTRIBUTING.md, the cluster bench by hand
    "make cluster-build": ("builds Kubernetes from the Go module proxy: tens of minutes the first time",
                           "tests/cluster/test_bench.py"),
    "make cluster-up INVENTORY=examples/two-node": (BENCH, "tests/cluster/test_cluster_cli.py::"
                                                    "test_up_twice_replaces_and_a_dead_cluster_is_cleared_then_down_twice"),
    "set -a; . .build/cluster/cluster.env; set +a": (BENCH, "tests/cluster/test_cluster_cli.py::"
                                                     "test_cluster_env_says_how_to_reach_it"),
    "$KUBECTL get nodes -o wide": (BENCH, "tests/cluster/test_bench.py"),
    'dig @127.0.0.1 -p "${CLUSTER_DNS#*:}" kubernetes.default.svc.cluster.local': (
        BENCH, "tests/cluster/test_components.py"),
    "ansible-playbook -i examples/two-node playbooks/bringup.yml -e k8s_network_mode=apply "
    "-e k8s_network_kubeconfig=$KUBECONFIG": (BENCH, "tests/cluster/test_bringup_real.py"),
    # docs/scenarios/molecule-bench.md: `make molecule` runs the scenario for examples/two-node
    "make molecule-cluster MOLECULE_SITE_INVENTORY=inventories/site-a": (
        BENCH + "; brings up the reader's own site", "molecule/cluster/molecule.yml"),
    "MOLECULE_SITE_INVENTORY=$PWD/inventories/site-a molecule test -s cluster": (
        BENCH + "; brings up the reader's own site", "molecule/cluster/molecule.yml"),
    # docs/performance.md: timings, not pass/fail (test_bench_arguments_exist checks the arguments)
    "make bench": ("the whole benchmark: over 20 minutes of timings, not pass/fail", None),
    "make bench-quick": ("benchmark timings (about three minutes), not pass/fail", None),
    'make bench BENCH_ARGS="--skip-fleet"': ("benchmark timings, not pass/fail", None),
    'make bench BENCH_ARGS="--sites 1,10 --json .build/bench/results.json"': (
        "benchmark timings, not pass/fail", None),
    # docs/scenarios/air-gapped.md: the connected side downloads; the controller's side is
    # run by the offline install test from the guide's own text.
    "(cd manifests/calico && curl -fsSLO https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/"
    "operator-crds.yaml && curl -fsSLO https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/"
    "tigera-operator.yaml)": (NETWORK + "; STAND_INS puts the same files from ../shared/releases in place", None),
    "(cd manifests/metallb && curl -fsSLO https://raw.githubusercontent.com/metallb/metallb/v0.16.1/config/"
    "manifests/metallb-native.yaml)": (NETWORK + "; STAND_INS puts the same file from ../shared/releases in place",
                                       None),
    "python3 -m pip download --no-deps ansible==12.3.0 -d offline": (
        NETWORK + " (PyPI); the test puts the wheel make venv downloaded in its place",
        "tests/integration/test_offline_install.py::test_the_guide_names_the_files_the_connected_side_makes"),
    "python3 -m pip download -r requirements.txt -d offline": (NETWORK + " (PyPI)", None),
    "scripts/build.sh offline": (
        "the offline install test builds the tarball with it",
        "tests/integration/test_offline_install.py::test_the_controllers_commands_install_both_collections_offline"),
    "unzip -q offline/ansible-12.3.0-py3-none-any.whl 'ansible_collections/kubernetes/core/*' -d offline/ansible": (
        "needs the ansible wheel the connected side downloads",
        "tests/integration/test_offline_install.py::test_the_controllers_commands_install_both_collections_offline"),
    "ansible-galaxy collection install --offline -p ./collections offline/edgeops-k8s_network-0.1.0.tar.gz "
    "offline/ansible/ansible_collections/kubernetes/core": (
        "needs the ansible wheel the connected side downloads",
        "tests/integration/test_offline_install.py::test_the_controllers_commands_install_both_collections_offline"),
    "ansible-galaxy collection list -p ./collections": (
        "lists what the offline install put there",
        "tests/integration/test_offline_install.py::test_the_controllers_commands_install_both_collections_offline"),
    "python3 -m pip install --no-index --find-links offline -r offline/requirements.txt": (
        "needs the wheels pip download fetched (PyPI), and would install into the venv", None),
    # docs/scenarios/awx.md
    "scripts/build.sh examples/awx/": (
        "the execution environment test builds the tarball beside the EE file with it",
        "tests/awx/test_execution_environment.py::test_context_holds_the_collection_tarball_where_the_requirements_point"),
    "ansible-builder create -f examples/awx/execution-environment.yml -c .build/ee-context "
    "--output-filename Containerfile": (
        "part of the runner suite, which has ansible-builder's context checked",
        "tests/awx/test_execution_environment.py::test_create_writes_a_containerfile_that_installs_the_collections"),
    "ansible-builder build -f examples/awx/execution-environment.yml -t edgeops-k8s-network-ee:0.1.0": (
        "needs podman or docker, the base image's registry and Galaxy", None),
    "export CONTROLLER_HOST=https://awx.example.com CONTROLLER_OAUTH_TOKEN=...": ("needs an AWX to talk to", None),
    "ansible-playbook docs/awx/create_job_template.yml -e @store-042.yml -e @store-042-cluster.vault.yml "
    "--ask-vault-pass": ("needs an AWX, the site's files and the vault password",
                         "tests/awx/test_survey.py::test_playbook_runs_against_the_stand_in"),
    # docs/scenarios/gitops-bundle.md
    "ansible-playbook playbooks/render.yml -i examples/two-node -e k8s_network_bundle_dir=$PWD/site-bundle "
    "-e calico_manifest_dir=/srv/edge/manifests/calico -e metallb_manifest_dir=/srv/edge/manifests/metallb": (
        "needs the release manifests in /srv/edge/manifests (air-gapped.md, section 1)",
        "tests/integration/roles/test_release_bundle.py::test_bundle_installs_the_whole_site"),
    'for f in [0-9]*.yaml; do until kubectl apply --server-side --force-conflicts '
    '--field-manager=edgeops.k8s_network -f "$f"; do sleep 10; done done': (CLUSTER, None),
    "kubectl -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}' > Corefile": (
        CLUSTER + "; STAND_INS writes kubeadm's Corefile with a line of its own", None),
    # docs/scenarios/real-cluster.md: test_real_cluster_guide runs its inventory commands and
    # syntax-checks its playbook commands against the guide's inventory.
    "scp root@cp-1:/etc/kubernetes/admin.conf ~/.kube/site-a.conf": (REAL_CLUSTER, None),
    "ansible-inventory -i inventories/site-a --graph": (
        "runs on the guide's inventory files",
        "tests/integration/test_real_cluster_guide.py::test_the_example_inventory_puts_its_nodes_in_edge_nodes"),
    "ansible-playbook playbooks/validate.yml -i inventories/site-a -K": (
        REAL_CLUSTER, "tests/integration/test_real_cluster_guide.py::"
        "test_every_ansible_playbook_command_of_the_guide_passes_syntax_check"),
    "ansible-playbook playbooks/bringup.yml -i inventories/site-a -K -e k8s_network_kubeconfig=$HOME/.kube/site-a.conf "
    "-e verify_enabled=false --check --diff": (
        REAL_CLUSTER, "tests/integration/test_real_cluster_guide.py::"
        "test_every_ansible_playbook_command_of_the_guide_passes_syntax_check"),
    "ansible-playbook playbooks/render.yml -i inventories/site-a -e k8s_network_bundle_dir=$PWD/site-a-bundle": (
        "reads the facts of the guide's SSH nodes", "tests/integration/test_real_cluster_guide.py::"
        "test_every_ansible_playbook_command_of_the_guide_passes_syntax_check"),
    "ansible-playbook playbooks/bringup.yml -i inventories/site-a -K -e k8s_network_kubeconfig=$HOME/.kube/site-a.conf": (
        REAL_CLUSTER, "tests/integration/test_real_cluster_guide.py::"
        "test_every_ansible_playbook_command_of_the_guide_passes_syntax_check"),
    # docs/scenarios/single-node.md: `make demo` (README.md) runs both, and says so (CHECKS).
    "ansible-playbook playbooks/validate.yml -i examples/single-node": (
        "make demo runs it", "tests/integration/test_docs_commands.py::test_documented_command"),
    "ansible-playbook playbooks/bringup.yml -i examples/single-node": (
        "make demo runs it", "tests/integration/test_docs_commands.py::test_documented_command"),
    # roles/kind_cluster/README.md
    "ansible-playbook edgeops.k8s_network.kind": (
        "needs docker, kind and the node image", "tests/integration/roles/test_kind_cluster.py::"
        "test_create_writes_kubeconfig_and_settings_and_a_rerun_changes_nothing"),
    "ansible-playbook -i examples/kind edgeops.k8s_network.bringup "
    "-e @$HOME/.cache/edgeops.k8s_network/kind/edgeops-settings.yml": (
        "needs the kind cluster the command before makes", None),
}
# Every kubectl command of real-cluster.md (reading the cluster, undoing a bring-up) needs it.
KUBECTL_REAL = "kubectl --kubeconfig ~/.kube/site-a.conf "
# A command that makes files by downloading them: the same files, from ../shared.
SHARED = os.environ.get("EDGEOPS_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))


def _releases(scratch, component, version, names):
    folder = os.path.join(scratch, "manifests", component)
    for name in names:
        source = os.path.join(SHARED, "releases", component, version, name)
        if not os.path.isfile(source):
            pytest.skip("%s is missing (the project's ../shared/releases)" % source)
        shutil.copy(source, folder)


def _corefile(scratch):
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "roles"))
    from test_bringup_apply import KUBEADM_COREFILE  # pylint: disable=import-outside-toplevel
    with open(os.path.join(scratch, "Corefile"), "w") as handle:
        handle.write(KUBEADM_COREFILE.replace("    loadbalance\n", "    loadbalance\n    # the live cluster's own line\n"))


# {command: what makes the files it makes}: the test runs this instead of the command.
STAND_INS = {
    "(cd manifests/calico && curl -fsSLO https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/"
    "operator-crds.yaml && curl -fsSLO https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/"
    "tigera-operator.yaml)": lambda scratch: _releases(
        scratch, "calico", "v3.32.1", ["operator-crds.yaml", "tigera-operator.yaml"]),
    "(cd manifests/metallb && curl -fsSLO https://raw.githubusercontent.com/metallb/metallb/v0.16.1/config/"
    "manifests/metallb-native.yaml)": lambda scratch: _releases(scratch, "metallb", "v0.16.1", ["metallb-native.yaml"]),
    "kubectl -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}' > Corefile": _corefile,
}


Command = collections.namedtuple("Command", "doc line command raw shown")

# --- reading the docs ---------------------------------------------------------------------


def code_blocks(doc):
    """``[(first line number, fence language or None for indented, [(line number, text)])]``."""
    with open(os.path.join(ROOT, doc)) as handle:
        lines = handle.read().split("\n")
    blocks, i, previous = [], 0, ""
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^(\s*)```(\w*)", line)
        if fence:
            indent, body, j = len(fence.group(1)), [], i + 1
            while not lines[j].strip().startswith("```"):
                body.append((j + 1, lines[j][indent:]))
                j += 1
            blocks.append((i + 1, fence.group(2), body))
            i, previous = j + 1, "```"
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent >= 4 and line.strip() and (not previous.strip() or previous.startswith("#")):
            body, j = [], i
            while j < len(lines) and (lines[j][:indent].strip() == "" and
                                      (lines[j].strip() or any(l.strip() for l in lines[j:j + 2]))):
                if not lines[j].strip() and not (j + 1 < len(lines) and lines[j + 1][:indent].strip() == ""
                                                 and lines[j + 1].strip()):
                    break
                body.append((j + 1, lines[j][indent:]))
                j += 1
            blocks.append((i + 1, None, body))
            i, previous = j, body[-1][1]
            continue
        previous = line
        i += 1
    return blocks


def is_shell(language, body):
    if language is not None:
        return language in SHELL_FENCES and not (language == "" and DATA_LINE.match(body[0][1]))
    first = next(line[1] for line in body if line[1].strip())
    return not DATA_LINE.match(first)


def _complete(text):
    if text.rstrip().endswith(("\\", "&&", "||", "|")):
        return False
    return subprocess.run(["bash", "-n", "-c", text], capture_output=True, check=False).returncode == 0


def normalise(text):
    """A command as one line: continuations joined, a trailing comment dropped, spaces collapsed."""
    joined = " ".join(part.rstrip("\\").strip() for part in text.split("\n"))
    joined = re.sub(r"(?:^|\s+)#\s.*$", "", joined)
    return re.sub(r"\s+", " ", joined).strip()


def commands_of(doc):
    """``[(doc, line, command as shown, shown output or None)]`` in the order of the doc."""
    found = []
    for _start, language, body in code_blocks(doc):
        if not is_shell(language, body):
            continue
        prompted = any(line[1].startswith("$ ") for line in body)
        pending, pending_line, output = None, None, None
        for number, text in body:
            if pending is not None:
                pending += "\n" + text
                if _complete(pending):
                    found.append([doc, pending_line, pending, output])
                    pending = None
                continue
            if prompted and not text.startswith("$ "):
                if found and found[-1][0] == doc and found[-1][3] is not None:
                    found[-1][3].append(text)
                continue
            command = text[2:] if prompted else text
            if not command.strip() or command.lstrip().startswith("#"):
                continue
            output = [] if prompted else None
            if _complete(command):
                found.append([doc, number, command, output])
            else:
                pending, pending_line = command, number
        assert pending is None, "%s:%s: the command never ends: %s" % (doc, pending_line, pending)
    return [Command(d, n, normalise(c), c, o) for d, n, c, o in found]


ALL = [entry for doc in DOCS for entry in commands_of(doc)]


def reason_not_run(command):
    if command in NOT_RUN:
        return NOT_RUN[command]
    if command.startswith(KUBECTL_REAL):
        return (REAL_CLUSTER, None)
    return None


def runnable():
    """The commands the test runs (or stands in for), each once, in the docs' order."""
    seen, chosen = set(), []
    for doc, line, command, raw, output in ALL:
        if (reason_not_run(command) is None or command in STAND_INS) and command not in seen:
            seen.add(command)
            chosen.append(pytest.param(doc, line, command, raw, output, id="%s:%d" % (doc, line)))
    return chosen


# --- the scratch clone --------------------------------------------------------------------


def environment(scratch):
    """A new user's shell after `make venv` (single-node.md): .venv/bin first on PATH, the
    clone's collections path, and no network."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "K8S_AUTH_", "MAKE", "MFLAGS", "VIRTUAL_ENV")) and k != "KUBECONFIG"}
    home = os.path.join(scratch, ".build", "home")
    env.update(HOME=home, PATH=os.path.join(scratch, ".venv", "bin") + os.pathsep + env.get("PATH", ""),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(scratch, ".build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=os.path.join(home, ".ansible", "tmp"),
               http_proxy=OFFLINE, https_proxy=OFFLINE, HTTP_PROXY=OFFLINE, HTTPS_PROXY=OFFLINE,
               no_proxy="", NO_PROXY="")
    return env


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A clone of the checkout as it is now (tracked files, uncommitted edits included) that has
    run `make venv`, with this checkout's .venv and downloads (.cache) in place of PyPI."""
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("git and make are needed to clone and set up a checkout")
    wheel = glob.glob(os.path.join(ROOT, ".cache", "ansible-*-py3-none-any.whl"))
    if not os.path.exists(os.path.join(ROOT, ".venv", "bin", "python")) or not wheel:
        pytest.fail("run `make venv` in %s first: the clone reuses its .venv and .cache" % ROOT)
    clone = str(tmp_path_factory.mktemp("docs") / "k8s_network")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.split("\0")
    for path in filter(None, tracked):
        source = os.path.join(ROOT, path)
        if os.path.lexists(source):
            os.makedirs(os.path.dirname(os.path.join(clone, path)), exist_ok=True)
            shutil.copy2(source, os.path.join(clone, path), follow_symlinks=False)
    git = ["git", "-c", "user.name=docs test", "-c", "user.email=docs@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the checkout's tracked files"]):
        subprocess.run(git + args, cwd=clone, check=True, capture_output=True)
    os.symlink(os.path.join(ROOT, ".venv"), os.path.join(clone, ".venv"))
    os.symlink(os.path.join(ROOT, ".cache"), os.path.join(clone, ".cache"))
    made = run(clone, "make venv")
    assert made.returncode == 0, made.stdout + made.stderr
    return clone


def run(scratch, command, timeout=600):
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=scratch, env=environment(scratch),
                          capture_output=True, text=True, check=False, timeout=timeout)


def flat(text):
    return re.sub(r"\s+", " ", text).strip()


def shows(output, shown):
    """Whether `output` holds the shown lines' text in order, `...` standing for anything."""
    position, text = 0, flat(output)
    for fragment in re.split(r"\s*\.\.\.\s*", flat("\n".join(shown))):
        if not fragment:
            continue
        found = text.find(fragment, position)
        if found < 0:
            return False, fragment
        position = found + len(fragment)
    return True, None


# --- what a command's run must also show ---------------------------------------------------


def _pins(scratch):
    pins = {}
    for role, key in (("calico", "calico_releases"), ("metallb", "metallb_releases")):
        with open(os.path.join(scratch, "roles", role, "vars", "main.yml")) as handle:
            pins[role] = yaml.safe_load(handle)[key]
    return pins


def check_sums(scratch, result):
    sums = dict(reversed(line.split()) for line in result.stdout.splitlines())
    pins = _pins(scratch)
    assert sorted(sums) == ["calico/operator-crds.yaml", "calico/tigera-operator.yaml", "metallb/metallb-native.yaml"]
    text = json.dumps(pins)
    for name, digest in sums.items():
        assert digest in text, "%s: sha256 %s is not the collection's pin" % (name, digest)


def check_bundle(folder):
    def check(scratch, result):
        files = sorted(os.listdir(os.path.join(scratch, folder)))
        assert {"20-calico.yaml", "40-metallb.yaml", "50-coredns.yaml", "90-verify.yaml", "README.md",
                "images.txt", "kustomization.yaml"} <= set(files), files
        # Offline: the release files are named as missing instead of failing the run.
        assert "MISSING" in result.stdout, result.stdout[-2000:]
    return check


class _file:  # pylint: disable=too-few-public-methods
    """A file's text where a check looks at a run's stdout."""

    def __init__(self, scratch, path):
        with open(os.path.join(scratch, path)) as handle:
            self.stdout = handle.read()


def check_shows(*texts):
    def check(_scratch, result):
        for text in texts:
            assert text in flat(result.stdout), text
    return check


CHECKS = {
    "make venv": lambda scratch, result: os.path.isdir(os.path.join(
        scratch, ".build", "collections", "ansible_collections", "kubernetes", "core")) or pytest.fail(
            "make venv left no kubernetes.core in .build/collections"),
    # make demo runs single-node.md's two commands, as that guide shows them (NOT_RUN).
    "make demo": lambda scratch, result: check_bundle(".build/bundle/single-node")(scratch, result) or check_shows(
        "ansible-playbook playbooks/validate.yml -i examples/single-node", "cluster_dns_ip: 172.28.0.10",
        "ansible-playbook playbooks/bringup.yml -i examples/single-node")(scratch, result),
    "make cluster-down": check_shows("nothing to stop"),
    "ansible-playbook playbooks/validate.yml -i examples/two-node": check_shows(
        "node_count: 2", "cluster_dns_ip: 10.97.0.10", "pod_mtu: 1430"),
    "(cd manifests && sha256sum calico/* metallb/*)": check_sums,
    # The vars file carries the live Corefile whole: its own line is in the bundle's ConfigMap.
    "ansible-playbook playbooks/render.yml -i examples/two-node -e k8s_network_bundle_dir=$PWD/site-bundle "
    "-e @corefile-vars.yml": lambda scratch, result: check_bundle("site-bundle")(scratch, result) or check_shows(
        "the live cluster's own line")(scratch, _file(scratch, "site-bundle/50-coredns.yaml")),
}


# --- the tests ----------------------------------------------------------------------------


def test_the_docs_show_commands():
    assert len(ALL) > 60 and {entry.doc for entry in ALL} >= {
        "README.md", "CONTRIBUTING.md", "docs/performance.md", "docs/scenarios/single-node.md",
        "roles/kind_cluster/README.md"}


def test_every_command_is_run_or_listed_with_its_reason():
    # A command that is not listed is run (test_documented_command, by its doc and line): one
    # that cannot run here fails there until it is listed, with its reason.
    run_here = {param.values[2] for param in runnable()}
    assert len(run_here) >= 15
    for entry in ALL:
        reason = reason_not_run(entry.command)
        assert entry.command in run_here or (reason and reason[0]), "%s:%d: %s" % (entry.doc, entry.line, entry.command)
        assert entry.command not in run_here or reason is None or entry.command in STAND_INS, "%s:%d" % (entry.doc, entry.line)


def test_every_listed_command_is_still_in_the_docs():
    shown = {entry.command for entry in ALL}
    assert sorted(set(NOT_RUN) - shown) == []
    assert sorted(set(STAND_INS) - set(NOT_RUN)) == []
    assert sorted(set(CHECKS) - shown) == []
    assert any(command.startswith(KUBECTL_REAL) for command in shown)


def test_every_covering_test_exists():
    for command, (_reason, covering) in NOT_RUN.items():
        if covering is None:
            continue
        path, name = (covering.split("::") + [""])[:2]
        assert os.path.isfile(os.path.join(ROOT, path)), "%s: %s" % (command, covering)
        if name:
            with open(os.path.join(ROOT, path)) as handle:
                assert re.search(r"^def %s\(" % re.escape(name), handle.read(), re.MULTILINE), covering


@pytest.mark.parametrize("doc, line, command, raw, shown", runnable())
def test_documented_command(scratch, doc, line, command, raw, shown):
    if command in STAND_INS:
        STAND_INS[command](scratch)
        return
    result = run(scratch, raw)
    where = "%s:%d: %s\n%s%s" % (doc, line, command, result.stdout[-4000:], result.stderr[-3000:])
    fails = bool(shown) and any("FAILED!" in text or re.search(r"\[[a-z_]+\] ", text) for text in shown)
    if fails:
        assert result.returncode != 0, "the doc shows a failure, the run passed\n" + where
    else:
        assert result.returncode == 0, where
    if shown:
        ok, missing = shows(result.stdout + result.stderr, shown)
        assert ok, "the run does not show %r\n%s" % (missing, where)
    if command in CHECKS:
        CHECKS[command](scratch, result)


# --- every name the docs give exists ------------------------------------------------------

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_real_cluster_guide import NAMED, documented_codes, spec_options  # noqa: E402 pylint: disable=wrong-import-position

ROLES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "roles", "*")))
TOP = ("playbooks", "roles", "examples", "docs", "tests", "scripts", "plugins", "molecule", "meta", "changelogs", "mk")


def docs_text():
    for doc in DOCS:
        with open(os.path.join(ROOT, doc)) as handle:
            yield doc, handle.read()


def _names(folder, pattern="*.py"):
    return {os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(ROOT, folder, pattern))}


def collection_names():
    """What `edgeops.k8s_network.<name>` may name: a module, role, playbook or filter."""
    return _names("plugins/modules") | set(ROLES) | _names("playbooks", "*.yml") | _names("plugins/filter")


def produced_names():
    """Names the roles and playbooks make: registered results, facts, the groups plays run on."""
    names = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("register"), str):
                names.add(node["register"])
            for key in ("ansible.builtin.set_fact", "set_fact"):
                if isinstance(node.get(key), dict):
                    names.update(node[key])
            if isinstance(node.get("hosts"), str):
                names.update(re.findall(r"[\w]+", node["hosts"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml")) + glob.glob(
            os.path.join(ROOT, "playbooks", "*.yml")):
        with open(path) as handle:
            walk(yaml.safe_load(handle))
    return names


def role_variables():
    names = set(spec_options())
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "defaults", "main.yml")) + glob.glob(
            os.path.join(ROOT, "roles", "*", "vars", "main.yml")):
        with open(path) as handle:
            names.update(yaml.safe_load(handle) or {})
    return names


def raised_codes():
    """Codes docs/codes.md names outside its tables, each raised as a literal in plugins/."""
    with open(os.path.join(ROOT, "docs", "codes.md")) as handle:
        text = handle.read()
    source = "".join(open(p).read() for p in glob.glob(os.path.join(ROOT, "plugins", "*", "*.py")))
    return {code for code in re.findall(r"`([a-z][a-z0-9_]+)`", text) if "[%s]" % code in source}


def test_every_variable_the_docs_name_exists():
    known = (role_variables() | produced_names() | documented_codes() | raised_codes()
             | _names("plugins/modules"))
    unknown = sorted({(name, doc) for doc, text in docs_text() for name in NAMED.findall(text)
                      if name not in known})
    assert unknown == []


def test_every_collection_name_the_docs_give_exists():
    names = collection_names()
    unknown = sorted({(name, doc) for doc, text in docs_text()
                      for name in re.findall(r"edgeops\.k8s_network\.([a-z_][a-z0-9_]*)", text) if name not in names})
    assert unknown == []


def test_every_code_the_docs_show_is_documented():
    codes = documented_codes() | raised_codes()
    shown = sorted({(code, doc) for doc, text in docs_text()
                    for code in re.findall(r"\[([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\](?!\()", text) if code not in codes})
    assert shown == []


def test_every_path_the_docs_give_exists():
    missing = []
    for doc, text in docs_text():
        for path in re.findall(r"`((?:%s)/[^`\s]*)`" % "|".join(TOP), text):
            if re.search(r"[<>*{}]|\.\.\.", path):
                continue
            path = path.split("#")[0].rstrip("/")
            # meta/argument_specs.yml and the like: a role's own file
            if not (os.path.lexists(os.path.join(ROOT, path)) or glob.glob(os.path.join(ROOT, "roles", "*", path))):
                missing.append((doc, path))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^(?:[a-z]+:|#)", target):
                continue
            if not os.path.lexists(os.path.join(ROOT, os.path.dirname(doc), target.split("#")[0])):
                missing.append((doc, target))
    assert missing == []


def make_targets():
    targets = set()
    for path in [os.path.join(ROOT, "Makefile")] + glob.glob(os.path.join(ROOT, "mk", "*.mk")):
        with open(path) as handle:
            targets.update(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", handle.read(), re.MULTILINE))
    return targets


def test_every_make_target_the_docs_give_exists():
    targets = make_targets()
    given = {(target, doc) for doc, text in docs_text() for target in re.findall(r"`make ([a-z][\w-]*)", text)}
    given |= {(entry.command.split()[1], entry.doc) for entry in ALL if entry.command.startswith("make ")}
    assert {"demo", "test", "venv", "bench", "cluster-build"} <= {pair[0] for pair in given}
    assert sorted((target, doc) for target, doc in given if target not in targets) == []


def test_bench_arguments_exist():
    with open(os.path.join(ROOT, "tests", "perf", "bench.py")) as handle:
        bench = handle.read()
    given = {option for doc, text in docs_text() for args in re.findall(r'BENCH_ARGS="([^"]*)"', text)
             for option in re.findall(r"--[a-z][\w-]*", args)}
    given |= {option for doc, text in docs_text() if "bench" in doc or "performance" in doc
              for option in re.findall(r"`(--[a-z][\w-]*)", text)}
    assert {"--skip-fleet", "--sites", "--json"} <= given
    assert sorted(option for option in given if '"%s"' % option not in bench) == []


def test_ansible_doc_shows_every_role_option_the_docs_name(scratch):
    """The docs' `ansible-doc -t role edgeops.k8s_network.<role>` commands, in the clone: each
    shows every option of that role that some doc names."""
    named = {name for pair in docs_text() for name in NAMED.findall(pair[1])}
    commands = sorted({command for pair in docs_text()
                       for command in re.findall(r"`(ansible-doc -t role edgeops\.k8s_network\.[a-z_]+)`", pair[1])})
    assert len(commands) == len(ROLES), commands
    env = environment(scratch)
    running = [(command, subprocess.Popen(["bash", "-c", command], cwd=scratch, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True)) for command in commands]
    for command, process in running:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, command + "\n" + stderr
        role = command.rsplit(".", 1)[1]
        with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
            options = set(yaml.safe_load(handle)["argument_specs"]["main"]["options"])
        assert sorted(name for name in named & options if name not in stdout) == [], command
