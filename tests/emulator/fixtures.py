# Copyright: (c) 2025, edgeops.k8s_network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures around the emulated Kubernetes API (tests/emulator/server.py).

THE EMULATED API IS A TEST DOUBLE, NOT KUBERNETES: it proves the collection's logic (what it
sends, in which order, what it waits for, that a re-run changes nothing), never that a real
cluster accepts or runs it.

Use from a test module::

    sys.path.insert(0, <repo>/tests)
    from emulator.fixtures import emulated_api, emulated_api_factory  # noqa: F401

``emulated_api`` starts a server with default options; ``emulated_api_factory(auto_ready=True,
resources=[...], crds_required=True, journal_reads=True)`` starts one with options. Both stop
their server at teardown. ``run_playbook(api, playbook, ...)`` runs ``ansible-playbook`` on
localhost against a server and returns its result with the PLAY RECAP parsed.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SERVER = os.path.join(HERE, "server.py")
COLLECTIONS = os.path.join(REPO, ".build", "collections")
START_TIMEOUT = 20


class EmulatedApi:
    """A running emulated API: its URL, a kubeconfig for it, its journal and its objects."""

    def __init__(self, workdir, process, port):
        self.workdir = workdir
        self.process = process
        self.port = port
        self.url = "http://127.0.0.1:%d" % port
        self.kubeconfig = os.path.join(workdir, "kubeconfig")
        self.journal_path = os.path.join(workdir, "journal.jsonl")

    # -- what the API received

    def journal(self, since=0, verbs=None, kind=None):
        """Parsed journal lines (one per request), from line `since` on, optionally filtered
        by verb (create, update, patch, apply, delete, deletecollection; get, list and watch
        with journal_reads) and kind."""
        if not os.path.exists(self.journal_path):
            return []
        with open(self.journal_path, encoding="utf-8") as handle:
            entries = [json.loads(line) for line in handle if line.strip()][since:]
        return [e for e in entries if (verbs is None or e["verb"] in verbs)
                and (kind is None or e["kind"] == kind)]

    def mark(self):
        """The journal's current length: pass it as `since` to see only later requests."""
        return len(self.journal())

    # -- what the API holds

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise AssertionError("%s %s -> %s: %s" % (method, path, error.code,
                                                      error.read().decode()))

    def objects(self, kind=None, namespace=None, name=None):
        """Every object the API holds, optionally filtered by kind, namespace and name."""
        return [o for o in self._call("GET", "/_emulator/objects")
                if (kind is None or o["kind"] == kind)
                and (namespace is None or o["metadata"].get("namespace") == namespace)
                and (name is None or o["metadata"]["name"] == name)]

    def get(self, kind, name, namespace=None):
        """The one object of that kind and name, or None."""
        found = self.objects(kind=kind, namespace=namespace, name=name)
        return found[0] if found else None

    def kinds(self):
        return self._call("GET", "/_emulator/kinds")

    def add_object(self, obj):
        """Store an object as it is, status included, as if it had been there all along."""
        return self._call("POST", "/_emulator/objects", obj)

    def set_status(self, api_version, kind, name, status, namespace=None):
        """Write an object's status the way its controller would (not journaled)."""
        return self._call("POST", "/_emulator/status", {
            "apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name,
            "status": status})

    def patch(self, api_version, kind, name, patch, namespace=None):
        """Merge-patch any part of an object as a controller would, e.g. a webhook caBundle."""
        return self._call("POST", "/_emulator/patch", {
            "apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name,
            "patch": patch})

    def mark_ready(self, api_version, kind, name, namespace=None):
        """Deployment/DaemonSet/StatefulSet rolled out, CRD Established, webhook CA injected."""
        return self._call("POST", "/_emulator/ready", {
            "apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name})

    # -- lifecycle

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log(self):
        with open(os.path.join(self.workdir, "server.log"), encoding="utf-8") as handle:
            return handle.read()


def start_emulated_api(workdir, auto_ready=False, resources=(), crds_required=False,
                       journal_reads=False, hide_kinds=()):
    """Start tests/emulator/server.py in its own process and wait until it serves.

    `auto_ready`: False, True (every kind it knows how to make ready) or a list of kinds.
    `resources`: objects (dicts) present from the start.
    `hide_kinds`: kinds the server does not serve at all (an unknown kind to its clients).
    """
    os.makedirs(workdir, exist_ok=True)
    ready_file = os.path.join(workdir, "ready")
    command = [sys.executable, SERVER, "--port", "0", "--ready-file", ready_file,
               "--journal", os.path.join(workdir, "journal.jsonl"),
               "--kubeconfig", os.path.join(workdir, "kubeconfig")]
    if auto_ready:
        command.append("--auto-ready" if auto_ready is True else
                       "--auto-ready=" + ",".join(auto_ready))
    if resources:
        path = os.path.join(workdir, "resources.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump_all(list(resources), handle)
        command += ["--resources", path]
    if crds_required:
        command.append("--crds-required")
    if journal_reads:
        command.append("--journal-reads")
    if hide_kinds:
        command.append("--hide-kinds=" + ",".join(hide_kinds))
    log = open(os.path.join(workdir, "server.log"), "w", encoding="utf-8")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while not os.path.exists(ready_file):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            with open(os.path.join(workdir, "server.log"), encoding="utf-8") as handle:
                raise RuntimeError("the emulated API did not start:\n" + handle.read())
        time.sleep(0.05)
    with open(ready_file, encoding="utf-8") as handle:
        port = int(handle.read().strip())
    return EmulatedApi(workdir, process, port)


@pytest.fixture
def emulated_api_factory(tmp_path_factory):
    """Start emulated APIs with options; all are stopped at teardown."""
    started = []

    def start(**options):
        api = start_emulated_api(str(tmp_path_factory.mktemp("emulated_api")), **options)
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


@pytest.fixture
def emulated_api(emulated_api_factory):
    """An emulated Kubernetes API (a test double) with default options."""
    return emulated_api_factory()


# -------------------------------------------------------------------------- ansible-playbook

RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")


def parse_recap(output):
    """{host: {ok, changed, unreachable, failed, skipped, rescued, ignored}} from PLAY RECAP."""
    recap, seen = {}, False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            seen, recap = True, {}
            continue
        match = RECAP_LINE.match(line.strip()) if seen else None
        if match:
            recap[match.group("host")] = {
                key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group("counts"))}
    return recap


class PlaybookRun:
    def __init__(self, completed):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.recap = parse_recap(completed.stdout)

    def __repr__(self):
        return "PlaybookRun(rc=%d, recap=%r)\n%s\n%s" % (
            self.rc, self.recap, self.stdout, self.stderr)


def ansible_env(scratch):
    """Environment for ansible-playbook: this checkout's collections, the venv's Python and
    every cache under `scratch` (the Kubernetes client keeps its discovery cache in TMPDIR);
    no ANSIBLE_*, K8S_AUTH_* or KUBECONFIG from the caller's environment."""
    home = os.path.join(scratch, "home")
    tmp = os.path.join(scratch, "tmp")
    for path in (home, tmp):
        os.makedirs(path, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "K8S_AUTH_")) and k != "KUBECONFIG"}
    env.update({
        "HOME": home, "TMPDIR": tmp, "ANSIBLE_REMOTE_TMP": os.path.join(home, ".ansible", "tmp"),
        "ANSIBLE_LOCAL_TEMP": os.path.join(home, ".ansible", "tmp"),
        "ANSIBLE_COLLECTIONS_PATH": os.environ.get("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    })
    return env


def playbook_env(api, scratch):
    """ansible_env(scratch), with kubernetes.core auth from `api`'s kubeconfig."""
    env = ansible_env(scratch)
    env.update({"K8S_AUTH_KUBECONFIG": api.kubeconfig, "KUBECONFIG": api.kubeconfig})
    return env


def run_playbook(api, playbook, *args, scratch=None, extra_vars=None, timeout=600):
    """Run ansible-playbook on localhost (local connection) against `api`."""
    scratch = scratch or os.path.dirname(os.path.abspath(playbook))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               "-i", "localhost,", "-c", "local", playbook]
    # Tests send traffic to loopback only: no release manifest is downloaded unless a test asks.
    command += ["-e", json.dumps(dict({"k8s_network_manifest_download": False}, **(extra_vars or {})))]
    command += list(args)
    completed = subprocess.run(command, cwd=scratch, env=playbook_env(api, scratch),
                               capture_output=True, text=True, timeout=timeout, check=False)
    return PlaybookRun(completed)
