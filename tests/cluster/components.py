"""The real programs behind the pods kwok fakes on the ``cluster`` bench (DESIGN.md section 7).

kwok makes pods Running and Ready, but nothing runs in them. Where a pod's program matters, the
bench runs the real program as a host process instead: this supervisor, started by
``cluster.py up`` and stopped by pid at ``cluster.py down``, polls the API server and starts a
program when its Deployment appears, stops it when the Deployment goes, and restarts it when it
dies. Each program is a ``Program`` in ``PROGRAMS``; one more (the Tigera operator) is one more
entry.

- CoreDNS (``kube-system/coredns``): serves the Corefile of the ``coredns`` ConfigMap, projected
  into a file as a kubelet projects a ConfigMap volume and re-projected (atomically) when the
  ConfigMap changes, so that CoreDNS's own ``reload`` plugin picks the change up. The projection
  (``project_corefile``) changes only what a process outside the pod network needs: every server
  block listens on 127.0.0.1 at the bench's DNS port (``bind``), the ``kubernetes`` plugin reads
  a kubeconfig (the ``coredns`` service account's token), ``health``/``ready``/``prometheus``
  listen on loopback ports of their own, the node's ``/etc/resolv.conf`` upstream is a loopback
  resolver of the bench that refuses every query (nothing leaves the machine), and ``reload``
  checks every 2 s instead of 30 s (timing only, so tests need not wait half a minute).

Files: ``<workdir>/components/supervisor.log``, ``<workdir>/components/<program>/`` (its pid
file, log, kubeconfig and token, and what it serves).

    python tests/cluster/components.py --workdir .build/cluster --kubeconfig K --dns-port P ...
"""

import argparse
import base64
import ctypes
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
try:
    from ansible_collections.edgeops.k8s_network.plugins.module_utils import corefile
except ImportError:  # run outside pytest: the collection tree that `make venv` links
    sys.path.insert(0, os.path.join(REPO, ".build", "collections"))
    from ansible_collections.edgeops.k8s_network.plugins.module_utils import corefile

LOOPBACK = "127.0.0.1"
POLL_SECONDS = 1.0
RELOAD_INTERVAL = ("2s", "1s")  # reload's INTERVAL and JITTER on the bench (CoreDNS default 30s 15s)
TOKEN_SECONDS = 24 * 3600
RESTART_BACKOFF = (1, 2, 5, 10, 30)


def log(message):
    sys.stdout.write("%s %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stdout.flush()


def program_dir(workdir, name):
    return os.path.join(workdir, "components", name)


def pid_files(workdir):
    """Pid files of the programs the supervisor of workdir started (for cluster.py down)."""
    root = os.path.join(workdir, "components")
    if not os.path.isdir(root):
        return []
    return [os.path.join(root, name, "pid") for name in sorted(os.listdir(root))
            if os.path.exists(os.path.join(root, name, "pid"))]


def write_atomically(path, text, mode=0o644):
    """Write text to path so that a reader sees the old file or the new one, never a part."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- the Corefile


class ProjectionError(ValueError):
    """A Corefile the bench cannot run as a host process (said in one line)."""


def project_corefile(text, dns_port, kubeconfig, health_port, ready_port, metrics_port, upstream):
    """The ConfigMap's Corefile as a host process on the bench serves it.

    Only what a process outside the pod network needs changes: the listen address and port of
    every server block, the kubernetes plugin's kubeconfig, the loopback addresses of health,
    ready and prometheus, the node resolver (``forward . /etc/resolv.conf``), reload's timing.
    Everything else (plugins, zones, order, comments) is served as the ConfigMap has it."""
    try:
        tree = corefile.parse(text)
    except corefile.CorefileError as err:
        raise ProjectionError("the Corefile does not parse (%s)" % err.message) from err
    if tree.imports or tree.snippets:
        raise ProjectionError("the bench does not project import or snippets")
    unit = tree.indent_unit()
    for server in tree.servers:
        for token in server.key_tokens:
            token.text = _server_key(token.value, dns_port)
            token.quoted = False
        block = server.block
        if block.open is None:
            raise ProjectionError("server block %s has no braces" % server.keys)
        for name, port in (("health", health_port), ("ready", ready_port), ("prometheus", metrics_port)):
            for directive in block.find(name):
                directive.set_args(["%s:%d" % (LOOPBACK, port)])
        for directive in block.find("kubernetes"):
            _set_sub_directive(directive, "kubeconfig", [kubeconfig], unit)
        for directive in block.find("forward"):
            args = directive.args
            if "/etc/resolv.conf" in args[1:]:
                directive.set_args([args[0]] + ["%s:%d" % (LOOPBACK, upstream) if arg == "/etc/resolv.conf" else arg
                                                for arg in args[1:]])
        for directive in block.find("reload"):
            directive.set_args(list(RELOAD_INTERVAL))
        for directive in block.find("bind"):
            corefile.remove(block, directive)
        corefile.insert(block, 0, corefile.new_directive("bind", [LOOPBACK]), "", unit, tree.newline)
    return tree.emit()


def _server_key(key, port):
    """``[dns://]zone[:port][,]`` with the bench's port; other transports are refused."""
    comma = "," if key.endswith(",") else ""
    key = key.rstrip(",")
    scheme, sep, rest = key.partition("://")
    if not sep:
        scheme, rest = "dns", key
    if scheme != "dns":
        raise ProjectionError("server block %s: the bench serves dns:// only" % key)
    zone = rest
    if rest.startswith("["):  # [::1]:53 style is not a zone; keep it simple
        raise ProjectionError("server block %s: a zone, not an address, is expected" % key)
    if ":" in rest:
        zone = rest.rsplit(":", 1)[0]
    return "%s:%d%s" % (zone, port, comma)


def _set_sub_directive(directive, name, args, unit):
    if directive.block is None:
        directive.block = corefile.Block(corefile.Token("{"), [], corefile.Token("}"))
        directive.block.open.pre = " "
        directive.block.close.pre = "\n" + corefile.indentation(directive.head[0])
    for old in directive.block.find(name):
        corefile.remove(directive.block, old)
    indent = corefile.indentation(directive.head[0])
    corefile.insert(directive.block, len(directive.block.items), corefile.new_directive(name, args),
                    indent, "   ", "\n")


# --------------------------------------------------------------------------- the API


class Api:
    """A small HTTPS client of the bench's API server (the admin kubeconfig), one kept connection."""

    def __init__(self, kubeconfig, scratch):
        with open(kubeconfig, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
        contexts = {c["name"]: c["context"] for c in config.get("contexts", [])}
        context = contexts.get(config.get("current-context")) or next(iter(contexts.values()))
        cluster = {c["name"]: c["cluster"] for c in config["clusters"]}[context["cluster"]]
        user = {u["name"]: u["user"] for u in config.get("users", [])}.get(context.get("user"), {})
        url = urllib.parse.urlsplit(cluster["server"])
        self.server = cluster["server"]
        self.host, self.port = url.hostname, url.port or 443
        os.makedirs(scratch, exist_ok=True)
        self.ca_file = _file_or_data(cluster, "certificate-authority", os.path.join(scratch, "ca.crt"))
        cert = _file_or_data(user, "client-certificate", os.path.join(scratch, "admin.crt"))
        key = _file_or_data(user, "client-key", os.path.join(scratch, "admin.key"))
        self.context = ssl.create_default_context(cafile=self.ca_file)
        if cert and key:
            self.context.load_cert_chain(cert, key)
        self.token = user.get("token")
        self.conn = None
        self.lock = threading.Lock()

    def request(self, method, path, body=None):
        """(status, decoded JSON or None); one retry on a broken kept connection."""
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        with self.lock:
            for attempt in (1, 2):
                if self.conn is None:
                    self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=30)
                try:
                    self.conn.request(method, path, body=data, headers=headers)
                    response = self.conn.getresponse()
                    raw = response.read()
                except (OSError, http.client.HTTPException):
                    self.conn.close()
                    self.conn = None
                    if attempt == 2:
                        raise
                    continue
                try:
                    return response.status, json.loads(raw) if raw else None
                except ValueError:
                    return response.status, None
        return None, None

    def get(self, path):
        status, obj = self.request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise OSError("GET %s: HTTP %s %s" % (path, status, (obj or {}).get("message", "")))
        return obj

    def token_for(self, namespace, service_account, seconds=TOKEN_SECONDS):
        """A bound token of the service account (TokenRequest), as the kubelet mounts one."""
        path = "/api/v1/namespaces/%s/serviceaccounts/%s/token" % (namespace, service_account)
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"expirationSeconds": seconds}}
        status, obj = self.request("POST", path, body)
        if status not in (200, 201):
            raise OSError("token for %s/%s: HTTP %s %s" % (namespace, service_account, status, (obj or {}).get("message", "")))
        return obj["status"]["token"]


def _file_or_data(entry, key, path):
    if entry.get(key):
        return entry[key]
    if entry.get(key + "-data"):
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(entry[key + "-data"]))
        return path
    return None


def service_account_kubeconfig(api, folder, namespace, service_account, server=None):
    """A kubeconfig for a program of a pod: the cluster CA, the service account's token in a file
    (client-go re-reads tokenFile, so a refreshed token is picked up). Returns its path."""
    token = api.token_for(namespace, service_account)
    write_atomically(os.path.join(folder, "token"), token, 0o600)
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "pod",
        "clusters": [{"name": "bench", "cluster": {"server": server or api.server, "certificate-authority": api.ca_file}}],
        "users": [{"name": service_account, "user": {"tokenFile": os.path.join(folder, "token")}}],
        "contexts": [{"name": "pod", "context": {"cluster": "bench", "user": service_account, "namespace": namespace}}],
    }
    path = os.path.join(folder, "kubeconfig")
    write_atomically(path, yaml.safe_dump(config, sort_keys=False), 0o600)
    return path


# --------------------------------------------------------------------------- a refusing resolver


class RefusingResolver:
    """The fake nodes' resolver: answers every UDP query on 127.0.0.1:port with REFUSED, so that
    CoreDNS's ``forward . /etc/resolv.conf`` (and its loop check) never leaves the machine."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, port))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                packet, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            if len(packet) < 12:
                continue
            ident, flags = struct.unpack(">HH", packet[:4])
            # QR=1, the query's opcode and RD, RA=1, RCODE=5 (REFUSED); the question echoed, no records.
            reply_flags = 0x8000 | (flags & 0x7900) | 0x0080 | 5
            qdcount = struct.unpack(">H", packet[4:6])[0]
            question_end = 12
            for _question in range(qdcount):
                while question_end < len(packet) and packet[question_end]:
                    question_end += packet[question_end] + 1
                question_end += 5
            reply = struct.pack(">HHHHHH", ident, reply_flags, qdcount, 0, 0, 0) + packet[12:question_end]
            try:
                self.sock.sendto(reply, peer)
            except OSError:
                pass


# --------------------------------------------------------------------------- a DNS client


def dns_query(port, name, qtype=1, timeout=2.0, server=LOOPBACK):
    """One UDP query to server:port; returns (rcode, [answer data]): dotted addresses for A
    records, raw bytes for other types. A minimal client: no retries, no TCP fallback."""
    ident = int.from_bytes(os.urandom(2), "big")
    question = b"".join(struct.pack("B", len(label)) + label.encode() for label in name.rstrip(".").split("."))
    packet = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + b"\x00" + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(timeout)
        client.sendto(packet, (server, port))
        while True:
            reply = client.recv(4096)
            if reply[:2] == packet[:2]:
                break
    _ident, flags, qdcount, ancount = struct.unpack(">HHHH", reply[:8])
    offset = 12
    for _question in range(qdcount):
        offset = _skip_name(reply, offset) + 4
    answers = []
    for _record in range(ancount):
        offset = _skip_name(reply, offset)
        rtype, _rclass, _ttl, length = struct.unpack(">HHIH", reply[offset:offset + 10])
        offset += 10
        data = reply[offset:offset + length]
        if rtype == qtype:
            answers.append(socket.inet_ntoa(data) if rtype == 1 else data)
        offset += length
    return flags & 0x000F, answers


def _skip_name(packet, offset):
    while True:
        length = packet[offset]
        if length & 0xC0 == 0xC0:
            return offset + 2
        if length == 0:
            return offset + 1
        offset += length + 1


# --------------------------------------------------------------------------- programs


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child before exec: SIGTERM when the supervisor dies, however it dies."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Program:
    """A real program standing in for the pods of one Deployment."""

    name = None  # the binary's name in build.binary_paths
    namespace = None
    deployment = None
    image = None  # the image repository (without registry and tag) whose pods it stands in for

    def __init__(self, supervisor):
        self.sup = supervisor
        self.folder = program_dir(supervisor.workdir, self.name)
        self.proc = None
        self.restarts = 0
        self.next_start = 0.0
        self.log_handle = None
        self.env = None  # the environment prepare() wants the program started with (None: ours)

    @property
    def binary(self):
        return self.sup.binaries.get(self.name, "")

    def deployment_path(self):
        return "/apis/apps/v1/namespaces/%s/deployments/%s" % (self.namespace, self.deployment)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def sync(self):
        deployment = self.sup.api.get(self.deployment_path())
        if deployment is None or deployment["metadata"].get("deletionTimestamp"):
            if self.proc is not None:
                log("%s: Deployment %s/%s is gone: stopping pid %d" % (self.name, self.namespace, self.deployment, self.proc.pid))
                self.stop()
            return
        if self.proc is not None and self.proc.poll() is not None:
            code = self.proc.returncode
            self.cleanup()
            self.proc = None
            delay = RESTART_BACKOFF[min(self.restarts, len(RESTART_BACKOFF) - 1)]
            self.restarts += 1
            self.next_start = time.monotonic() + delay
            log("%s: exited with %s; restart %d in %ds (log: %s)" % (self.name, code, self.restarts, delay, self.log_path()))
        if self.proc is None:
            if time.monotonic() < self.next_start:
                return
            image = deployment["spec"]["template"]["spec"]["containers"][0].get("image", "")
            repository = image.split("@")[0].rsplit(":", 1)[0] if ":" in image.split("/")[-1] else image.split("@")[0]
            if not (repository == self.image or repository.endswith("/" + self.image)):
                # Another program's pods under this name (a test's stand-in manifest): not ours to run.
                log("%s: Deployment %s/%s runs %s, not %s: not started" % (
                    self.name, self.namespace, self.deployment, image or "no image", self.image))
                self.next_start = time.monotonic() + 30
                return
            if not os.access(self.binary, os.X_OK):
                log("%s: %s is not built: not started" % (self.name, self.binary))
                self.next_start = time.monotonic() + 60
                return
            argv = self.prepare(deployment)
            if argv is None:
                return
            self.start(argv)
        else:
            self.tick(deployment)

    def log_path(self):
        return os.path.join(self.folder, "log")

    def start(self, argv):
        os.makedirs(self.folder, exist_ok=True)
        self.log_handle = open(self.log_path(), "a", encoding="utf-8")
        self.proc = subprocess.Popen(argv, cwd=self.folder, stdin=subprocess.DEVNULL, stdout=self.log_handle,
                                     stderr=subprocess.STDOUT, env=self.env, preexec_fn=_die_with_parent)
        write_atomically(os.path.join(self.folder, "pid"), "%d\n" % self.proc.pid)
        log("%s: started pid %d: %s" % (self.name, self.proc.pid, " ".join(argv)))
        self.started()

    def stop(self, grace=2):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.cleanup()
        self.proc = None
        try:
            os.unlink(os.path.join(self.folder, "pid"))
        except OSError:
            pass

    def cleanup(self):
        if self.log_handle:
            self.log_handle.close()
            self.log_handle = None

    # hooks
    def prepare(self, deployment):
        """The command line to start, or None to wait (called while the program is not running);
        may set self.env."""
        raise NotImplementedError

    def started(self):
        pass

    def tick(self, deployment):
        """Called on each poll while the program runs."""


class CoreDNS(Program):
    name = "coredns"
    namespace = "kube-system"
    deployment = "coredns"
    image = "coredns/coredns"
    configmap = "coredns"

    def __init__(self, supervisor):
        super().__init__(supervisor)
        self.served_version = None
        self.kubeconfig = None
        self.token_written = 0.0
        self.resolver = None

    @property
    def corefile_path(self):
        return os.path.join(self.folder, "Corefile")

    def prepare(self, deployment):
        os.makedirs(self.folder, exist_ok=True)
        account = deployment["spec"]["template"]["spec"].get("serviceAccountName") or "default"
        if self.kubeconfig is None or time.monotonic() - self.token_written > TOKEN_SECONDS / 2:
            self.kubeconfig = service_account_kubeconfig(self.sup.api, self.folder, self.namespace, account)
            self.token_written = time.monotonic()
            self.served_version = None
        if not self.project():
            return None
        if self.resolver is None:
            self.resolver = RefusingResolver(self.sup.ports["upstream"])
        return [self.binary, "-conf", self.corefile_path]

    def tick(self, deployment):
        if time.monotonic() - self.token_written > TOKEN_SECONDS / 2:
            account = deployment["spec"]["template"]["spec"].get("serviceAccountName") or "default"
            service_account_kubeconfig(self.sup.api, self.folder, self.namespace, account)
            self.token_written = time.monotonic()
        self.project()

    def project(self):
        """Write the ConfigMap's Corefile, projected, when its resourceVersion moved. False: none yet."""
        configmap = self.sup.api.get("/api/v1/namespaces/%s/configmaps/%s" % (self.namespace, self.configmap))
        if configmap is None or "Corefile" not in (configmap.get("data") or {}):
            if self.served_version is None:
                log("coredns: waiting for ConfigMap %s/%s with a Corefile" % (self.namespace, self.configmap))
            return os.path.exists(self.corefile_path)
        version = configmap["metadata"]["resourceVersion"]
        if version == self.served_version:
            return True
        ports = self.sup.ports
        try:
            text = project_corefile(configmap["data"]["Corefile"], ports["dns"], self.kubeconfig or "/nonexistent",
                                    ports["health"], ports["ready"], ports["metrics"], ports["upstream"])
        except ProjectionError as err:
            # As a kubelet would project it, CoreDNS could not load it either: the running
            # configuration stays, as CoreDNS's reload keeps it on a Corefile it cannot load.
            log("coredns: ConfigMap version %s not projected: %s" % (version, err))
            self.served_version = version
            return os.path.exists(self.corefile_path)
        header = "# Projected by tests/cluster/components.py from ConfigMap %s/%s, resourceVersion %s\n" % (
            self.namespace, self.configmap, version)
        write_atomically(self.corefile_path, header + text)
        log("coredns: projected ConfigMap %s/%s resourceVersion %s" % (self.namespace, self.configmap, version))
        self.served_version = version
        return True


# --------------------------------------------------------------------------- a pod's network


CLONE_NEWNET = 0x40000000


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: %s" % os.strerror(err))


def _run(*argv):
    proc = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode:
        raise OSError("%s: %s" % (" ".join(argv), proc.stderr.strip() or proc.returncode))
    return proc.stdout


class PodNetwork:
    """The pod IP kwok gave a pod, made real: a network namespace (the program's own, made by
    ``unshare --net``) holding the pod IP on a veth whose host end carries a link-local address
    and a /32 route to the pod IP. The API server (on the host) reaches the program at the pod
    IP, as it reaches a webhook through its Service's endpoints; inside, the API server is at
    127.0.0.1:<its port>, relayed to the host's loopback (none with api_port None, for a program
    that needs no API server). Nothing else is routed: the namespace dies with the program, and
    its veth and route with it.
    """

    def __init__(self, pid, pod_ip, api_port, tag):
        self.pid = pid
        self.pod_ip = pod_ip
        self.api_port = api_port
        digest = hashlib.sha256(tag.encode()).hexdigest()[:6]
        self.host_link = "eb" + digest
        self.host_address = "169.254.%d.%d" % (1 + (int(digest[:2], 16) % 250), 1 + (int(digest[2:4], 16) % 250))
        self.listener = None
        self.closed = threading.Event()

    def setup(self):
        ns = "/proc/%d/ns/net" % self.pid
        deadline = time.monotonic() + 10
        while os.readlink(ns) == os.readlink("/proc/self/ns/net"):
            if time.monotonic() > deadline:
                raise OSError("pid %d did not get a network namespace of its own" % self.pid)
            time.sleep(0.05)
        inside = ("nsenter", "--net=" + ns)
        _run("ip", "link", "add", self.host_link, "type", "veth", "peer", "name", "eth0", "netns", str(self.pid))
        _run("ip", "addr", "add", self.host_address + "/32", "dev", self.host_link)
        _run("ip", "link", "set", self.host_link, "up")
        _run(*inside, "ip", "link", "set", "lo", "up")
        _run(*inside, "ip", "addr", "add", self.pod_ip + "/32", "dev", "eth0")
        _run(*inside, "ip", "link", "set", "eth0", "up")
        _run(*inside, "ip", "route", "add", self.host_address + "/32", "dev", "eth0")
        _run("ip", "route", "add", self.pod_ip + "/32", "dev", self.host_link, "src", self.host_address)
        if self.api_port is None:
            return
        self.listener = self._listen_inside(ns)
        threading.Thread(target=self._relay, daemon=True).start()

    def _listen_inside(self, ns):
        """A socket listening on 127.0.0.1:<API port> inside the namespace (made by a thread that
        enters it and comes back: a socket stays in the namespace it was made in)."""
        result = {}

        def make():
            home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            target = os.open(ns, os.O_RDONLY)
            try:
                _setns(target)
                try:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((LOOPBACK, self.api_port))
                    sock.listen(64)
                    result["sock"] = sock
                finally:
                    _setns(home)
            except OSError as err:
                result["error"] = err
            finally:
                os.close(home)
                os.close(target)

        thread = threading.Thread(target=make)
        thread.start()
        thread.join()
        if "error" in result:
            raise result["error"]
        return result["sock"]

    def _relay(self):
        while not self.closed.is_set():
            try:
                inner, _peer = self.listener.accept()
            except OSError:
                return
            try:
                outer = socket.create_connection((LOOPBACK, self.api_port), timeout=10)
                outer.settimeout(None)
            except OSError:
                inner.close()
                continue
            for source, sink in ((inner, outer), (outer, inner)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self):
        self.closed.set()
        if self.listener is not None:
            try:
                self.listener.close()
            except OSError:
                pass
            self.listener = None
        # The namespace, the veth pair and the route go with the program; this only cleans up
        # after a program that never started.
        subprocess.run(["ip", "link", "del", self.host_link], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)


def _pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def can_make_pod_networks():
    """Root (CAP_NET_ADMIN, CAP_SYS_ADMIN) with unshare, nsenter and ip at hand."""
    return os.geteuid() == 0 and all(shutil.which(tool) for tool in ("unshare", "nsenter", "ip"))


def _selector(deployment):
    labels = deployment["spec"]["selector"].get("matchLabels") or {}
    return ",".join("%s=%s" % item for item in sorted(labels.items()))


def running_pod(api, namespace, deployment):
    """A Running pod of the Deployment with an IP (the kwok-faked one the program stands in for)."""
    query = urllib.parse.urlencode({"labelSelector": _selector(deployment)})
    pods = api.get("/api/v1/namespaces/%s/pods?%s" % (namespace, query)) or {"items": []}
    live = [pod for pod in pods["items"] if pod.get("status", {}).get("phase") == "Running"
            and pod["status"].get("podIP") and not pod["metadata"].get("deletionTimestamp")]
    return sorted(live, key=lambda pod: pod["metadata"]["name"])[0] if live else None


def container_command(deployment, pod):
    """The first container's args and env as the kubelet would give them (values and the pod's
    own fieldRefs; secret and configmap references are not resolved)."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    fields = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": pod["metadata"]["namespace"],
              "spec.nodeName": pod["spec"].get("nodeName", ""), "status.podIP": pod["status"].get("podIP", ""),
              "status.hostIP": pod["status"].get("hostIP", "")}
    env = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        elif "fieldRef" in (item.get("valueFrom") or {}):
            env[item["name"]] = fields.get(item["valueFrom"]["fieldRef"]["fieldPath"], "")
    return list(container.get("args", [])), env


class VolumeProjection:
    """A secret or configMap volume of the pod, kept in a folder as a kubelet keeps it mounted:
    one file per key (or per item), rewritten atomically when the object changes."""

    def __init__(self, namespace, volume, mount_path, target):
        self.namespace = namespace
        self.kind = "secret" if "secret" in volume else "configMap"
        source = volume[self.kind]
        self.object_name = source.get("secretName") if self.kind == "secret" else source.get("name")
        self.items = source.get("items")
        self.mount_path = mount_path
        self.target = target
        self.version = None

    def sync(self, api):
        plural = "secrets" if self.kind == "secret" else "configmaps"
        obj = api.get("/api/v1/namespaces/%s/%s/%s" % (self.namespace, plural, self.object_name))
        if obj is None or obj["metadata"]["resourceVersion"] == self.version:
            return False
        files = {}
        for key, value in (obj.get("data") or {}).items():
            files[key] = base64.b64decode(value) if self.kind == "secret" else value.encode()
        for key, value in (obj.get("binaryData") or {}).items():
            files[key] = base64.b64decode(value)
        if self.items:
            files = {item["path"]: files[item["key"]] for item in self.items if item["key"] in files}
        os.makedirs(self.target, exist_ok=True)
        for name, content in files.items():
            path = os.path.join(self.target, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = path + ".tmp"
            with open(tmp, "wb") as handle:
                handle.write(content)
            os.replace(tmp, path)
        for name in os.listdir(self.target):
            if name not in files and os.path.isfile(os.path.join(self.target, name)):
                os.unlink(os.path.join(self.target, name))
        self.version = obj["metadata"]["resourceVersion"]
        log("projected %s %s/%s (%d keys) into %s" % (self.kind, self.namespace, self.object_name, len(files), self.target))
        return True


def volume_projections(deployment, folder):
    """{mountPath: VolumeProjection} for the first container's secret and configMap mounts. A
    mount under /tmp lands under ``<folder>/tmp``, the program's TMPDIR (Go's os.TempDir), so
    that a program finding its files under the temporary folder finds them there."""
    spec = deployment["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
    found = {}
    for mount in spec["containers"][0].get("volumeMounts", []):
        volume = volumes.get(mount["name"], {})
        if "secret" in volume or "configMap" in volume:
            path = mount["mountPath"].rstrip("/")
            if path.startswith("/tmp/"):
                target = os.path.join(folder, "tmp", path[len("/tmp/"):])
            else:
                target = os.path.join(folder, "volumes", mount["name"])
            found[mount["mountPath"]] = VolumeProjection(deployment["metadata"]["namespace"], volume, mount["mountPath"],
                                                         target)
    return found


class MetallbController(Program):
    """MetalLB's controller for metallb-system/controller: assigns LoadBalancer addresses from the
    IPAddressPools, rotates its webhook certificate (writing the CA bundle into the webhook
    configuration and the BGPPeer CRD's conversion webhook) and serves the validating webhook at
    the pod IP of the kwok-faked pod it stands in for (PodNetwork), which the API server reaches
    through the webhook Service's endpoints (it runs with --enable-aggregator-routing)."""

    name = "metallb-controller"
    namespace = "metallb-system"
    deployment = "controller"
    image = "metallb/controller"

    # Where the controller reads its webhook serving certificate: the mount of the
    # metallb-webhook-cert secret in its pod (the cert rotation waits for the kubelet to project
    # what it wrote into the secret).
    cert_mount = "/tmp/k8s-webhook-server/serving-certs"

    def __init__(self, supervisor):
        super().__init__(supervisor)
        self.network = None
        self.pod = None
        self.volumes = {}

    def prepare(self, deployment):
        if not can_make_pod_networks():
            if self.next_start == 0.0:
                log("%s: not started: making its pod network needs root with unshare, nsenter and ip" % self.name)
            self.next_start = time.monotonic() + 3600
            return None
        pod = running_pod(self.sup.api, self.namespace, deployment)
        if pod is None:
            return None
        os.makedirs(self.folder, exist_ok=True)
        account = deployment["spec"]["template"]["spec"].get("serviceAccountName") or "default"
        kubeconfig = service_account_kubeconfig(self.sup.api, self.folder, self.namespace, account)
        args, env = container_command(deployment, pod)
        self.pod = pod
        self.volumes = volume_projections(deployment, self.folder)
        for volume in self.volumes.values():
            volume.sync(self.sup.api)
        cert_dir = self.volumes[self.cert_mount].target if self.cert_mount in self.volumes \
            else os.path.join(self.folder, "certs")
        argv = [self.binary] + args + ["--kubeconfig=" + kubeconfig, "--namespace=" + self.namespace,
                                       "--pod-name=" + pod["metadata"]["name"], "--cert-dir=" + cert_dir]
        self.env = dict(os.environ, **env)
        self.env.pop("KUBECONFIG", None)
        # The pod's /tmp: controller-runtime's webhook server reads its certificate from
        # $TMPDIR/k8s-webhook-server/serving-certs, where the secret's projection is.
        self.env["TMPDIR"] = os.path.join(self.folder, "tmp")
        os.makedirs(self.env["TMPDIR"], exist_ok=True)
        return argv

    def start(self, argv):
        os.makedirs(self.folder, exist_ok=True)
        self.log_handle = open(self.log_path(), "a", encoding="utf-8")
        # The program waits on stdin in its own network namespace until that is set up.
        wrapped = ["unshare", "--net", "--", "/bin/sh", "-c", 'read ready && exec "$@"', "sh"] + argv
        self.proc = subprocess.Popen(wrapped, cwd=self.folder, stdin=subprocess.PIPE, stdout=self.log_handle,
                                     stderr=subprocess.STDOUT, env=self.env, preexec_fn=_die_with_parent)
        write_atomically(os.path.join(self.folder, "pid"), "%d\n" % self.proc.pid)
        pod_ip = self.pod["status"]["podIP"]
        self.network = PodNetwork(self.proc.pid, pod_ip, self.sup.api.port, self.sup.workdir + "/" + self.name)
        try:
            self.network.setup()
        except OSError as err:
            log("%s: its pod network (%s) could not be made: %s" % (self.name, pod_ip, err))
            self.stop()
            self.next_start = time.monotonic() + 30
            return
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.close()
        log("%s: started pid %d as pod %s/%s at %s: %s"
            % (self.name, self.proc.pid, self.namespace, self.pod["metadata"]["name"], pod_ip, " ".join(argv)))

    def cleanup(self):
        super().cleanup()
        if self.network is not None:
            self.network.close()
            self.network = None

    def tick(self, deployment):
        for volume in self.volumes.values():
            volume.sync(self.sup.api)
        # The pod it stands in for went (a rollout, a deletion): run as the new one.
        pod = running_pod(self.sup.api, self.namespace, deployment)
        if pod is not None and self.pod is not None and pod["metadata"]["uid"] != self.pod["metadata"]["uid"] \
                and not self._pod_exists(self.pod):
            log("%s: pod %s is gone: restarting as %s" % (self.name, self.pod["metadata"]["name"], pod["metadata"]["name"]))
            self.stop()

    def _pod_exists(self, pod):
        live = self.sup.api.get("/api/v1/namespaces/%s/pods/%s" % (self.namespace, pod["metadata"]["name"]))
        return live is not None and live["metadata"]["uid"] == pod["metadata"]["uid"]


class TigeraOperator(Program):
    """The Tigera operator for tigera-operator/tigera-operator. Its manifest runs it with
    hostNetwork, so a host process is where its pod would run; it serves nothing the API server
    calls. It runs with a token of its service account (the release manifest's RBAC is what it
    may do), the container's args and env as the kubelet gives them, and what a pod has and a
    host process has not: OPERATOR_NAMESPACE (a pod reads it from its service account mount) and
    KUBERNETES_SERVICE_HOST/PORT (the API server on loopback, which it passes on to calico-node,
    typha and the CNI config). controller-runtime's leader election wants the pod's namespace
    file too: the bench runs one operator and adds -enable-leader-election=false."""

    name = "tigera-operator"
    namespace = "tigera-operator"
    deployment = "tigera-operator"
    image = "tigera/operator"

    def __init__(self, supervisor):
        super().__init__(supervisor)
        self.token_written = 0.0

    @staticmethod
    def _account(deployment):
        return deployment["spec"]["template"]["spec"].get("serviceAccountName") or "default"

    def prepare(self, deployment):
        pod = running_pod(self.sup.api, self.namespace, deployment)
        if pod is None:
            return None
        os.makedirs(self.folder, exist_ok=True)
        kubeconfig = service_account_kubeconfig(self.sup.api, self.folder, self.namespace, self._account(deployment))
        self.token_written = time.monotonic()
        args, env = container_command(deployment, pod)
        self.env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": self.folder}
        self.env.update(env)
        self.env.update({"KUBECONFIG": kubeconfig, "OPERATOR_NAMESPACE": self.namespace,
                         "KUBERNETES_SERVICE_HOST": LOOPBACK, "KUBERNETES_SERVICE_PORT": str(self.sup.api.port)})
        return [self.binary] + args + ["-enable-leader-election=false"]

    def tick(self, deployment):
        if time.monotonic() - self.token_written > TOKEN_SECONDS / 2:
            service_account_kubeconfig(self.sup.api, self.folder, self.namespace, self._account(deployment))
            self.token_written = time.monotonic()


PROGRAMS = (CoreDNS, MetallbController, TigeraOperator)


# --------------------------------------------------------------------------- the supervisor


class Supervisor:
    def __init__(self, workdir, kubeconfig, binaries, ports, programs=PROGRAMS):
        self.workdir = workdir
        self.binaries = binaries
        self.ports = ports
        self.api = Api(kubeconfig, os.path.join(workdir, "components", "admin"))
        self.programs = [program(self) for program in programs]
        self.stopping = threading.Event()

    def run(self):
        log("supervisor: pid %d, programs %s" % (os.getpid(), ", ".join(p.name for p in self.programs)))
        last_error = {}
        while not self.stopping.is_set():
            for program in self.programs:
                try:
                    program.sync()
                    last_error.pop(program.name, None)
                except Exception as err:  # pylint: disable=broad-except
                    message = "%s: %s: %s" % (program.name, type(err).__name__, err)
                    if last_error.get(program.name) != message:  # once, not every second
                        log(message)
                    last_error[program.name] = message
            self.stopping.wait(POLL_SECONDS)
        for program in self.programs:
            program.stop()
        log("supervisor: stopped")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--binaries", required=True, help="JSON {name: path} of the built programs")
    parser.add_argument("--ports", required=True, help="JSON {dns, health, ready, metrics, upstream}")
    args = parser.parse_args(argv)
    supervisor = Supervisor(os.path.abspath(args.workdir), args.kubeconfig, json.loads(args.binaries),
                            json.loads(args.ports))

    def stop(_signum, _frame):
        supervisor.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    supervisor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
