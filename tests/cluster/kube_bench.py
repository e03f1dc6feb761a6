"""What the ``cluster`` suite's tests use of a running bench (tests/cluster/cluster.py).

``BenchCluster`` wraps one: its cluster.env values, a kubectl bound to its kubeconfig, and the
journal of the writes the API server accepted, read from its audit log.
"""

import base64
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import build  # noqa: E402 pylint: disable=wrong-import-position
import cluster  # noqa: E402 pylint: disable=wrong-import-position

BENCH_INVENTORY = os.path.join(REPO, "examples", "two-node")
# Clients whose writes are the cluster's own (controllers, kwok, the bench's kubectl), not a test's.
SYSTEM_AGENTS = ("kube-controller-manager", "kube-scheduler", "kube-apiserver", "kwok", "kubectl")


def unavailable(reason):
    """Skip, or fail under CI=true: CI must prove the bench, not skip it."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("cluster bench unavailable in CI: %s" % reason, pytrace=False)
    pytest.skip("cluster bench unavailable: %s" % reason)


def find_releases():
    """``EDGEOPS_RELEASES``, else ``shared/releases`` beside the checkout or in an ancestor folder."""
    if os.environ.get("EDGEOPS_RELEASES"):
        return os.environ["EDGEOPS_RELEASES"]
    folder = os.path.dirname(REPO)
    while True:
        candidate = os.path.join(folder, "shared", "releases")
        if os.path.isdir(candidate) or os.path.dirname(folder) == folder:
            return candidate
        folder = os.path.dirname(folder)


class BenchCluster:
    """A running bench: cluster.env's values, a kubectl bound to it, its audit journal."""

    def __init__(self, workdir, env):
        self.workdir = workdir
        self.env = env
        self.kubeconfig = env["KUBECONFIG"]
        self.kubectl_path = env["KUBECTL"]

    def kubectl(self, *args, stdin=None, check=True):
        proc = subprocess.run([self.kubectl_path, "--kubeconfig", self.kubeconfig] + [str(a) for a in args],
                              input=stdin, capture_output=True, text=True, timeout=120, check=False)
        if check and proc.returncode:
            raise AssertionError("kubectl %s -> %d: %s" % (" ".join(map(str, args)), proc.returncode, proc.stderr))
        return proc

    def json(self, *args):
        return json.loads(self.kubectl(*(list(args) + ["-o", "json"])).stdout)

    def get(self, resource, name, namespace=None):
        """The object as the server holds it, or None."""
        args = ["get", resource, name, "-o", "json", "--ignore-not-found", "--show-managed-fields"]
        if namespace:
            args += ["-n", namespace]
        out = self.kubectl(*args).stdout
        return json.loads(out) if out.strip() else None

    def apply(self, objects, *extra):
        text = objects if isinstance(objects, str) else yaml.safe_dump_all(objects, sort_keys=False)
        return self.kubectl("apply", "-f", "-", *extra, stdin=text, check=False)

    # -- the audit journal

    def audit(self):
        path = self.env["CLUSTER_AUDIT_LOG"]
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def kinds(self):
        """{(group, plural): kind} from discovery."""
        out = self.kubectl("api-resources", "--no-headers", "-o", "wide").stdout
        mapping = {}
        for line in out.splitlines():
            parts = line.split()
            # NAME [SHORTNAMES] APIVERSION NAMESPACED KIND VERBS...
            index = next(i for i, part in enumerate(parts) if part in ("true", "false"))
            api_version = parts[index - 1]
            group = api_version.split("/")[0] if "/" in api_version else ""
            mapping[(group, parts[0])] = parts[index + 1]
        return mapping

    def journal(self, since=0, clients="test"):
        """Writes the API server accepted, as tests/emulator's journal shows them: one dict per
        request with verb, kind, namespace, name, field_manager, code and changed (the object's
        resourceVersion moved). clients="test" leaves out the cluster's own components."""
        kinds = self.kinds()
        last_version = {}
        entries = []
        for number, event in enumerate(self.audit()):
            ref = event.get("objectRef") or {}
            key = (ref.get("apiGroup", ""), ref.get("resource"), ref.get("namespace"), ref.get("name"))
            response = event.get("responseObject") or {}
            version = (response.get("metadata") or {}).get("resourceVersion") if response.get("kind") != "Status" else None
            before = last_version.get(key)
            if version:
                last_version[key] = version
            if event.get("verb") not in ("create", "update", "patch", "delete", "deletecollection"):
                continue
            if ref.get("subresource"):
                continue
            agent = event.get("userAgent", "")
            if clients == "test" and agent.startswith(SYSTEM_AGENTS):
                continue
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(event.get("requestURI", "")).query)
            code = (event.get("responseStatus") or {}).get("code")
            entries.append({
                "index": number, "verb": event["verb"], "kind": kinds.get((key[0], key[1]), key[1]),
                "namespace": key[2], "name": key[3], "code": code, "agent": agent,
                "field_manager": (query.get("fieldManager") or [None])[0],
                "dry_run": bool(query.get("dryRun")),
                "changed": bool(code and code < 300 and not query.get("dryRun")
                                and (event["verb"].startswith("delete") or version != before)),
                "body": event.get("requestObject"),
            })
        return [entry for entry in entries if entry["index"] >= since]

    def mark(self):
        return len(self.audit())

    def wait_for(self, predicate, timeout=60, interval=0.5, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
            time.sleep(interval)


def start_bench(workdir, inventory=BENCH_INVENTORY):
    """Start a bench in workdir (build missing binaries first), or skip/fail when it cannot be."""
    versions = build.read_versions()
    missing = build.missing_binaries(versions)
    if missing:
        try:
            build.build(versions, log=lambda line: sys.stderr.write(line + "\n"))
        except build.Unavailable as err:
            unavailable(str(err))
    try:
        env = cluster.up(inventory, workdir, log=lambda line: sys.stderr.write(line + "\n"))
    except build.Unavailable as err:
        unavailable(str(err))
    return BenchCluster(workdir, env)


class RealApi:
    """tests/emulator's EmulatedApi interface (fixtures.py) over a bench, so that a test written
    for the emulated API runs unchanged on the real server: get() asks the server, journal()
    reads the writes it accepted from its audit log. There is no auto_ready to play: the real
    controllers, kwok and the bench's real programs (components.py) make things ready; what the
    stand-in manifests of test_bringup_real.py leave undone, that test says it plays
    (MetallbCaInjector)."""

    def __init__(self, bench, crds=(), since=0):
        """``since``: the journal starts there (bench.mark()), for a test on a bench used before."""
        self.bench = bench
        self.kubeconfig = bench.kubeconfig
        self.crds = list(crds)
        self.since = since

    def journal(self, since=0, verbs=None, kind=None):
        return [entry for entry in self.bench.journal(since=max(since, self.since))
                if (verbs is None or entry["verb"] in verbs) and (kind is None or entry["kind"] == kind)]

    def mark(self):
        return self.bench.mark()

    def get(self, kind, name, namespace=None):
        return self.bench.get(kind, name, namespace)

    def add_object(self, obj):
        """Create obj as another client would (kubectl create), its status through /status."""
        group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
        served = {g for g, _plural in self.bench.kinds()}
        if group and group not in served:
            crds = [c for c in self.crds if c["spec"]["group"] == group and c["spec"]["names"]["kind"] == obj["kind"]]
            assert crds, "no CRD for %s %s to create it with" % (obj["apiVersion"], obj["kind"])
            self.bench.kubectl("apply", "--server-side", "--field-manager", "test-setup", "-f", "-",
                               stdin=yaml.safe_dump_all(crds))
            self.bench.kubectl("wait", "--for=condition=Established", "--timeout=30s",
                               *["crd/" + c["metadata"]["name"] for c in crds])
        body = {key: value for key, value in obj.items() if key != "status"}
        self.bench.kubectl("create", "--field-manager", "test-setup", "-f", "-", stdin=yaml.safe_dump(body))
        if obj.get("status"):
            args = ["patch", obj["kind"], obj["metadata"]["name"], "--subresource=status", "--type=merge",
                    "--field-manager", "test-setup", "-p", json.dumps({"status": obj["status"]})]
            if obj["metadata"].get("namespace"):
                args += ["-n", obj["metadata"]["namespace"]]
            self.bench.kubectl(*args)
        return self.get(obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))


class MetallbCaInjector:
    """Plays, for the stand-in release manifests of test_bringup_real.py only, the one thing of
    the MetalLB controller the role waits for: once the metallb-webhook-configuration exists,
    write a CA bundle into its webhooks. The bench runs the real controller for MetalLB's own
    Deployment (its image; tests/cluster/components.py), whose cert rotation writes the real
    bundle (test_components.py proves it); the stand-ins' Deployment runs no MetalLB image and
    carries no RBAC, so nothing real runs for it. The bench's cluster CA stands in for MetalLB's.
    Goes when those tests apply the real manifests (issue 13)."""

    def __init__(self, bench, interval=1.0):
        self.bench = bench
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)

    def _ca(self):
        with open(self.bench.kubeconfig, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
        cluster_entry = config["clusters"][0]["cluster"]
        if cluster_entry.get("certificate-authority-data"):
            return cluster_entry["certificate-authority-data"]
        with open(cluster_entry["certificate-authority"], "rb") as handle:
            return base64.b64encode(handle.read()).decode()

    def _run(self):
        ca = self._ca()
        while not self._stop.wait(self.interval):
            live = self.bench.get("validatingwebhookconfiguration", "metallb-webhook-configuration")
            if not live:
                continue
            missing = [hook["name"] for hook in live.get("webhooks", []) if not hook.get("clientConfig", {}).get("caBundle")]
            if missing:
                patch = {"webhooks": [{"name": name, "clientConfig": {"caBundle": ca}} for name in missing]}
                self.bench.kubectl("patch", "validatingwebhookconfiguration", "metallb-webhook-configuration",
                                   "--type=strategic", "--field-manager", "metallb-controller-stand-in",
                                   "-p", json.dumps(patch), check=False)


def make_load_balancer(bench, name, annotations=None):
    """Apply a Service of type LoadBalancer ``default/<name>`` (annotations: e.g. MetalLB's
    ``metallb.io/loadBalancerIPs``)."""
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
               "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80}]}}
    result = bench.apply([service])
    assert result.returncode == 0, result.stderr


def load_balancer_ingress(bench, name):
    """The ingress addresses ``default/<name>`` holds in its status (what MetalLB assigned)."""
    live = bench.get("service", name, "default") or {}
    return [entry.get("ip") for entry in live.get("status", {}).get("loadBalancer", {}).get("ingress", [])]


# --------------------------------------------------------------------------- the Tigera operator


def operator_binary():
    """The operator binary of the pinned version (built now if missing: tens of minutes cold),
    or skip/fail saying why it cannot be built here. Its api module is served by no registry
    this project reaches: without a local copy of it every operator test skips, under CI=true
    too, with the one line that says what to put where (CONTRIBUTING.md)."""
    versions = build.read_versions()
    try:
        return build.build_operator(versions, log=lambda line: sys.stderr.write(line + "\n"))
    except build.SourceUnavailable as err:
        pytest.skip("the Tigera operator cannot be built here: %s" % err)
    except build.Unavailable as err:
        unavailable(str(err))
    return None
