"""Start and stop the ``cluster`` bench: a real Kubernetes control plane for an inventory's site.

``up`` builds what is missing (tests/cluster/build.py), then has kwokctl (binary runtime, the
local binaries, nothing downloaded) start etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and the kwok controller on 127.0.0.1, with TLS and RBAC. It creates one fake Node
per host of the inventory's ``edge_nodes`` group, its InternalIP the node's compute address,
and leaves the cluster as kubeadm would: ``kube-system/kubeadm-config``, the CoreDNS Deployment,
the ``coredns`` ConfigMap with kubeadm's default Corefile, the ``kube-dns`` Service at the tenth
address of the service CIDR. It writes ``<workdir>/cluster.env``.

``down`` stops every process ``up`` started, by the pids it recorded (never by name), and
removes the work folder. Both may run any number of times; ``up`` first clears whatever an
earlier, possibly killed, run left.

    python tests/cluster/cluster.py up --inventory examples/two-node
    python tests/cluster/cluster.py down
"""

import argparse
import errno
import hashlib
import ipaddress
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import build  # noqa: E402 pylint: disable=wrong-import-position
import components  # noqa: E402 pylint: disable=wrong-import-position

try:
    from ansible_collections.edgeops.k8s_network.plugins.module_utils import coredns, ipranges
    from ansible_collections.edgeops.k8s_network.plugins.module_utils.compute_network import CLUSTER_DNS_INDEX
except ImportError:  # run outside pytest: the collection tree that `make venv` links
    sys.path.insert(0, os.path.join(REPO, ".build", "collections"))
    from ansible_collections.edgeops.k8s_network.plugins.module_utils import coredns, ipranges
    from ansible_collections.edgeops.k8s_network.plugins.module_utils.compute_network import CLUSTER_DNS_INDEX

DEFAULT_WORKDIR = os.path.join(REPO, ".build", "cluster")
CLUSTER_NAME = "edgeops"
LOOPBACK = "127.0.0.1"
ROLE_DEFAULTS = os.path.join(REPO, "roles", "compute_network", "defaults", "main.yml")
ADDONS = os.path.join(HERE, "kubeadm-addons.yaml")
AUDIT_POLICY = os.path.join(HERE, "audit-policy.yaml")
# kwokctl's binary runtime manages Nodes carrying this annotation (its default selector).
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
EXIT_BAD_INPUT = 2


class Site:
    """What the bench takes from an inventory: the edge nodes and the cluster's networking."""

    def __init__(self, inventory, nodes, pod_cidr, service_cidr, cluster_domain, upstreams=()):
        self.inventory = inventory
        self.nodes = nodes  # [(name, InternalIP)] in inventory order
        self.pod_cidr = pod_cidr
        self.service_cidr = service_cidr
        self.cluster_domain = cluster_domain
        # IPv4 addresses the site's CoreDNS forwards to (DNS servers, forwarders, stub domains)
        self.upstreams = list(upstreams)

    @property
    def kubernetes_service_ip(self):
        return ipranges.nth_host(ipranges.parse_network(self.service_cidr), 1)

    @property
    def cluster_dns_ip(self):
        return ipranges.nth_host(ipranges.parse_network(self.service_cidr), CLUSTER_DNS_INDEX)


def _ansible_inventory():
    found = shutil.which("ansible-inventory", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if not found:
        raise build.BenchError("ansible-inventory not found: run `make venv` and use its Python")
    return found


def read_site(inventory):
    """The site of an inventory, via ansible-inventory (group_vars and host_vars merged)."""
    if not os.path.exists(inventory):
        raise build.BenchError("inventory %s does not exist" % inventory)
    proc = subprocess.run([_ansible_inventory(), "-i", inventory, "--list", "--export"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode:
        raise build.BenchError("ansible-inventory -i %s failed: %s" % (inventory, build.last_lines(proc.stderr)))
    data = json.loads(proc.stdout)
    hosts = _group_hosts(data, "edge_nodes")
    if not hosts:
        raise build.BenchError("inventory %s has no hosts in group edge_nodes: the bench makes one Node per edge node"
                               % inventory)
    with open(ROLE_DEFAULTS, encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    hostvars = data.get("_meta", {}).get("hostvars", {})
    site_vars = dict(defaults)
    site_vars.update(_group_vars(data, "all"))
    site_vars.update(_group_vars(data, "edge_nodes"))
    first = dict(site_vars, **hostvars.get(hosts[0], {}))
    # A site may set its DNS servers per host; which node's view reaches the Corefile is the
    # play's choice (the cluster's leader), so every node's servers are kept on the machine.
    upstreams = []
    for host in hosts:
        for address in dns_upstreams(dict(site_vars, **hostvars.get(host, {}))):
            if address not in upstreams:
                upstreams.append(address)

    def setting(name):
        value = first.get("compute_network_" + name)
        if value in (None, "", []):
            value = defaults["compute_network_" + name]
        if isinstance(value, str) and "{{" in value:
            raise build.BenchError("compute_network_%s is a template (%s): the bench reads plain values only" % (name, value))
        return value

    for name in ("pod_cidr", "service_cidr"):
        try:
            ipranges.parse_network(str(setting(name)))
        except ipranges.AddressError as err:
            raise build.BenchError("[%s] compute_network_%s: %s" % (err.code, name, err.message)) from err
    nodes = _node_addresses(hosts, hostvars, setting("node_ips"))
    return Site(inventory, nodes, str(setting("pod_cidr")), str(setting("service_cidr")),
                str(setting("cluster_domain")).rstrip("."), upstreams)


def dns_upstreams(settings):
    """The IPv4 addresses, not loopback, that CoreDNS forwards to once the coredns role has written
    the site's Corefile: compute_network_dns_servers, coredns_forwarders and the stub domains' servers.
    None of them is the tests' own, so the bench keeps queries to them on the machine."""
    values = []

    def add(value):
        if isinstance(value, str):
            values.extend(part.strip() for part in value.split(","))
        elif isinstance(value, (list, tuple)):
            for item in value:
                add(item)
        elif isinstance(value, dict):
            for item in value.values():
                add(item)

    for name in ("compute_network_dns_servers", "coredns_forwarders", "coredns_stub_domains"):
        add(settings.get(name))
    found = []
    for value in values:
        host = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            continue
        if address.version == 4 and not address.is_loopback and str(address) not in found:
            found.append(str(address))
    return found


def _group_hosts(data, group):
    """Hosts of a group and its children, in inventory order, each once."""
    seen = []
    entry = data.get(group) or {}
    for host in entry.get("hosts", []):
        if host not in seen:
            seen.append(host)
    for child in entry.get("children", []):
        for host in _group_hosts(data, child):
            if host not in seen:
                seen.append(host)
    return seen


def _group_vars(data, group):
    return dict((data.get(group) or {}).get("vars", {}))


def _node_addresses(hosts, hostvars, node_ips):
    """Each edge node's compute address: its ``ansible_host`` where that is inside the node IP
    range, otherwise the next free address of the range, in inventory order (as the device
    hands them out)."""
    ranges, errors = ipranges.parse_ranges(node_ips)
    if errors or not ranges:
        reason = errors[0][1].message if errors else "empty"
        raise build.BenchError("compute_network_node_ips (%r): %s; the bench needs it for the nodes' InternalIP"
                               % (node_ips, reason))
    given = {}
    for host in hosts:
        candidate = str(hostvars.get(host, {}).get("ansible_host", ""))
        try:
            address = ipranges.parse_address(candidate)
        except ipranges.AddressError:
            continue
        if ipranges.contains_address(ranges, address):
            given[host] = str(address)
    free = (str(address) for r in ranges for address in r if str(address) not in given.values())
    nodes = []
    for host in hosts:
        address = given.get(host) or next(free, None)
        if address is None:
            raise build.BenchError("compute_network_node_ips %s has fewer addresses than the %d edge nodes"
                                   % (node_ips, len(hosts)))
        nodes.append((host, address))
    return nodes


def node_name(host):
    name = "".join(c if c.isalnum() or c in "-." else "-" for c in host.lower()).strip("-.")
    return name or "node"


# --------------------------------------------------------------------------- processes


def _port_free(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            return False
        raise
    finally:
        sock.close()
    return True


def free_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def audit_log(workdir):
    """The API server's audit log (tests/cluster/audit-policy.yaml): every write it accepted."""
    return os.path.join(workdir, "kwok", "clusters", CLUSTER_NAME, "logs", "audit.log")


def _pid_files(workdir):
    pids = os.path.join(workdir, "kwok", "clusters", CLUSTER_NAME, "pids")
    if not os.path.isdir(pids):
        return []
    return [os.path.join(pids, name) for name in sorted(os.listdir(pids)) if name.endswith(".pid")]


def _read_pid(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _is_ours(pid, binaries):
    """The pid still runs one of the bench's binaries (a recycled pid is left alone)."""
    try:
        exe = os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return False
    exe = exe[:-len(" (deleted)")] if exe.endswith(" (deleted)") else exe
    return exe in binaries


def _is_supervisor(pid, workdir):
    """The pid is the components supervisor of this work folder (tests/cluster/components.py)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().decode(errors="replace").split("\0")
    except OSError:
        return False
    return any(arg.endswith("components.py") for arg in argv) and workdir in argv


def recorded_pids(workdir):
    """Pids kwokctl recorded for this work folder, the programs the supervisor started, and the
    ones we recorded ourselves."""
    pids = [pid for pid in (_read_pid(path) for path in _pid_files(workdir) + components.pid_files(workdir)) if pid]
    state = _load_state(workdir)
    for pid in state.get("pids", []):
        if pid not in pids:
            pids.append(pid)
    return pids


def _load_state(workdir):
    try:
        with open(os.path.join(workdir, "state.json"), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def _kwok_env(workdir):
    env = dict(os.environ)
    env["KWOK_WORKDIR"] = os.path.join(workdir, "kwok")
    env.pop("KUBECONFIG", None)
    return env


def _route_metric(workdir):
    """This bench's metric for its unreachable routes: its own, so that benches for the same
    CIDRs add and remove theirs without touching each other's; high, so a real route wins."""
    return 4000 + int(hashlib.sha256(workdir.encode()).hexdigest()[:6], 16) % 1000


def guard_routes(site, workdir, log):
    """Unreachable routes for the site's pod and service CIDRs and DNS servers, so that nothing the bench's
    processes send to a pod or service address (the API server calling a webhook, a program
    dialling a ClusterIP) leaves the machine through the default route: where the bench made a
    pod IP real (tests/cluster/components.py), its /32 route is more specific. Root only."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        log("cluster: not root: no unreachable routes for the pod and service CIDRs (traffic to them"
            " would follow the default route)")
        return []
    metric = str(_route_metric(workdir))
    routes = []
    # The site's DNS servers too: CoreDNS sends its loop check and every outside name to them,
    # and a test that stands one in holds it in a network namespace with a better route.
    for cidr in [site.pod_cidr, site.service_cidr] + ["%s/32" % address for address in site.upstreams]:
        proc = subprocess.run(["ip", "route", "add", "unreachable", cidr, "metric", metric],
                              capture_output=True, text=True, check=False)
        if proc.returncode and "File exists" not in proc.stderr:
            raise build.BenchError("ip route add unreachable %s: %s" % (cidr, proc.stderr.strip()))
        routes.append([cidr, metric])
    return routes


def _drop_routes(routes):
    for cidr, metric in routes:
        subprocess.run(["ip", "route", "del", "unreachable", cidr, "metric", metric],
                       capture_output=True, check=False)


def down(workdir=DEFAULT_WORKDIR, log=print, quiet_if_absent=False):
    """Stop what an earlier ``up`` in workdir started and remove workdir. Idempotent."""
    if not os.path.exists(workdir):
        if not quiet_if_absent:
            log("cluster: nothing to stop in %s" % workdir)
        return
    state = _load_state(workdir)
    binaries = set(state.get("binaries", {}).values())
    # The supervisor first: it stops the programs it started before the API server goes.
    supervisor = state.get("supervisor")
    if supervisor and _is_supervisor(supervisor, workdir):
        _stop_pids([supervisor], binaries, is_alive=lambda pid: _is_supervisor(pid, workdir))
    pids = recorded_pids(workdir)
    kwokctl = state.get("binaries", {}).get("kwokctl")
    if kwokctl and os.access(kwokctl, os.X_OK) and os.path.isdir(os.path.join(workdir, "kwok", "clusters", CLUSTER_NAME)):
        subprocess.run([kwokctl, "--name", CLUSTER_NAME, "delete", "cluster"], env=_kwok_env(workdir),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
    # kwokctl stops its components by their pid files; whatever still runs (a killed kwokctl,
    # a component that ignored SIGTERM) is stopped here, by pid and only if it runs our binary.
    stopped = _stop_pids([pid for pid in pids if _is_ours(pid, binaries)], binaries)
    _drop_routes(state.get("routes", []))
    shutil.rmtree(workdir, ignore_errors=True)
    log("cluster: stopped%s and removed %s" % (" %d leftover process(es)" % stopped if stopped else "", workdir))


def _stop_pids(pids, binaries, timeout=10, is_alive=None):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in alive if (is_alive or (lambda p: _is_ours(p, binaries)))(pid)]
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


# --------------------------------------------------------------------------- up


class Kubectl:
    def __init__(self, binary, kubeconfig):
        self.binary = binary
        self.kubeconfig = kubeconfig

    def run(self, *args, stdin=None, check=True):
        proc = subprocess.run([self.binary, "--kubeconfig", self.kubeconfig] + list(args), input=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        if check and proc.returncode:
            raise build.BenchError("kubectl %s: %s" % (" ".join(args[:2]), build.last_lines(proc.stderr)))
        return proc

    def create(self, objects, field_manager="kubeadm"):
        """Create objects the way kubeadm does (client-go Create, its own field manager)."""
        text = yaml.safe_dump_all(objects, sort_keys=False)
        return self.run("create", "--field-manager", field_manager, "-f", "-", stdin=text)


def kubeadm_objects(site, versions):
    """kube-system as kubeadm leaves it: kubeadm-config, CoreDNS's ConfigMap, Deployment, Service."""
    cluster_configuration = {
        "apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
        "kubernetesVersion": versions["KUBERNETES_VERSION"],
        "clusterName": "kubernetes",
        "controlPlaneEndpoint": "",
        "certificatesDir": "/etc/kubernetes/pki",
        "imageRepository": "registry.k8s.io",
        "dns": {}, "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
        "networking": {"dnsDomain": site.cluster_domain, "podSubnet": site.pod_cidr,
                       "serviceSubnet": site.service_cidr},
        "apiServer": {}, "controllerManager": {}, "scheduler": {},
    }
    with open(ADDONS, encoding="utf-8") as handle:
        text = handle.read()
    text = (text.replace("@COREDNS_VERSION@", versions["COREDNS_VERSION"])
            .replace("@CLUSTER_DNS_IP@", site.cluster_dns_ip))
    addons = yaml.safe_load(text)["items"]
    objects = [{
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
        "data": {"ClusterConfiguration": yaml.safe_dump(cluster_configuration, sort_keys=False)},
    }, coredns.configmap(coredns.kubeadm_default(site.cluster_domain))]
    return objects + addons


def node_objects(site):
    key, value = KWOK_NODE_ANNOTATION
    nodes = []
    for host, address in site.nodes:
        name = node_name(host)
        nodes.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {key: value},
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "type": "kwok"}},
            "status": {"addresses": [{"type": "InternalIP", "address": address},
                                     {"type": "Hostname", "address": name}],
                       "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                       "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"}},
        })
    return nodes


def _node_cidr_mask(site):
    """kube-controller-manager's per-node CIDR size: /24 as kubeadm's default, smaller when the
    pod CIDR cannot hold one /24 per node."""
    network = ipaddress.ip_network(site.pod_cidr, strict=False)
    bits = max(1, (len(site.nodes) - 1).bit_length())
    return max(24, network.prefixlen + bits)


def up(inventory, workdir=DEFAULT_WORKDIR, port=None, log=print):
    """Start the bench for inventory; returns the dict written to cluster.env."""
    started = time.monotonic()
    site = read_site(inventory)
    if port and not _port_free(port):
        raise build.BenchError("port %d on %s is taken: stop what listens there or pick another with PORT=" % (port, LOOPBACK))
    versions = build.read_versions()
    cache = build.cache_dir()
    paths = build.build(versions, cache, log=log)
    down(workdir, log=log, quiet_if_absent=True)
    os.makedirs(workdir)
    port = port or free_port()
    state = {"inventory": os.path.abspath(inventory), "binaries": paths, "pids": []}
    _save_state(workdir, state)
    try:
        state["routes"] = guard_routes(site, workdir, log)
        _save_state(workdir, state)
        env = _start_control_plane(site, versions, paths, workdir, port, log)
        kubectl = Kubectl(paths["kubectl"], env["KUBECONFIG"])
        _seed(kubectl, site, versions, log)
        env.update(_start_components(site, paths, workdir, env["KUBECONFIG"], log))
    except BaseException:
        down(workdir, log=lambda _line: None)
        raise
    env["STARTUP_SECONDS"] = "%.1f" % (time.monotonic() - started)
    _write_env(os.path.join(workdir, "cluster.env"), env)
    log("cluster: up in %ss: Kubernetes %s on https://%s:%d, nodes %s"
        % (env["STARTUP_SECONDS"], versions["KUBERNETES_VERSION"], LOOPBACK, port,
           ", ".join("%s=%s" % (node_name(h), a) for h, a in site.nodes)))
    return env


def _save_state(workdir, state):
    with open(os.path.join(workdir, "state.json"), "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1)


def _start_control_plane(site, versions, paths, workdir, port, log):
    kubeconfig = os.path.join(workdir, "kubeconfig")
    config = {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1", "kind": "KwokctlConfiguration",
        "options": {
            "runtime": "binary", "bindAddress": LOOPBACK, "kubeVersion": versions["KUBERNETES_VERSION"],
            "kubeApiserverBinary": paths["kube-apiserver"],
            "kubeControllerManagerBinary": paths["kube-controller-manager"],
            "kubeSchedulerBinary": paths["kube-scheduler"], "kubectlBinary": paths["kubectl"],
            "etcdBinary": paths["etcd"], "kwokControllerBinary": paths["kwok"],
            "cacheDir": os.path.join(workdir, "kwok", "cache"),
            "kubeApiserverPort": port, "securePort": True, "kubeAuthorization": True, "kubeAdmission": True,
            "kubeAuditPolicy": AUDIT_POLICY,
        },
    }
    extra = [
        ("kube-apiserver", "service-cluster-ip-range", site.service_cidr),
        # Webhooks are called at their Service's endpoints (the pod IPs), where the bench runs the
        # real program in a network namespace of its own (tests/cluster/components.py), not at
        # the ClusterIP, which nothing routes without kube-proxy.
        ("kube-apiserver", "enable-aggregator-routing", "true"),
        ("kube-controller-manager", "service-cluster-ip-range", site.service_cidr),
        ("kube-controller-manager", "cluster-cidr", site.pod_cidr),
        ("kube-controller-manager", "allocate-node-cidrs", "true"),
        ("kube-controller-manager", "node-cidr-mask-size", str(_node_cidr_mask(site))),
        ("kwok-controller", "cidr", site.pod_cidr),
    ]
    # In the configuration, not as --extra-args: kwokctl v0.8.0 indexes its patches by the flag's
    # position, and panics when a second component has more than one flag.
    patches = {}
    for component, key, value in extra:
        patches.setdefault(component, []).append({"key": key, "value": value})
    config["componentsPatches"] = [{"name": name, "extraArgs": args} for name, args in patches.items()]
    config_path = os.path.join(workdir, "kwokctl.yaml")
    with open(config_path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    command = [paths["kwokctl"], "--config", config_path, "--name", CLUSTER_NAME, "create", "cluster",
               "--runtime", "binary", "--kubeconfig", kubeconfig, "--timeout", "120s", "--wait", "60s"]
    step = time.monotonic()
    log_path = os.path.join(workdir, "kwokctl.log")
    with open(log_path, "w", encoding="utf-8") as out:
        proc = subprocess.run(command, env=_kwok_env(workdir), stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=300, check=False)
    state = _load_state(workdir)
    state["pids"] = recorded_pids(workdir)
    _save_state(workdir, state)
    if proc.returncode:
        with open(log_path, encoding="utf-8") as handle:
            raise build.BenchError("kwokctl create cluster failed: %s (log: %s)"
                                   % (build.last_lines(handle.read()), log_path))
    log("cluster: control plane started by kwokctl in %.1fs (processes %s)"
        % (time.monotonic() - step, " ".join(str(pid) for pid in state["pids"])))
    env = {
        "KUBECONFIG": kubeconfig, "KUBECTL": paths["kubectl"],
        "CLUSTER_SERVER": "https://%s:%d" % (LOOPBACK, port), "CLUSTER_INVENTORY": os.path.abspath(site.inventory),
        "CLUSTER_POD_CIDR": site.pod_cidr, "CLUSTER_SERVICE_CIDR": site.service_cidr,
        "CLUSTER_DOMAIN": site.cluster_domain, "CLUSTER_DNS_IP": site.cluster_dns_ip,
        "CLUSTER_AUDIT_LOG": audit_log(workdir),
        "CLUSTER_PIDS": " ".join(str(pid) for pid in state["pids"]),
        "CLUSTER_NODES": " ".join("%s=%s" % (node_name(h), a) for h, a in site.nodes),
    }
    env.update(versions)
    return env


def _seed(kubectl, site, versions, log):
    step = time.monotonic()
    kubectl.create(node_objects(site), field_manager="kubelet")
    kubectl.create(kubeadm_objects(site, versions))
    kubectl.run("wait", "--for=condition=Ready", "node", "--all", "--timeout=60s")
    kubectl.run("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=60s")
    log("cluster: %d node(s) Ready and kube-system seeded as kubeadm leaves it in %.1fs"
        % (len(site.nodes), time.monotonic() - step))


def free_dns_port():
    """A port free on 127.0.0.1 for both UDP and TCP (DNS answers on both)."""
    for _attempt in range(20):
        port = free_port()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((LOOPBACK, port))
            return port
        except OSError:
            continue
        finally:
            sock.close()
    raise build.BenchError("no port free for both UDP and TCP on %s" % LOOPBACK)


def _start_components(site, paths, workdir, kubeconfig, log, timeout=60):
    """Start the supervisor of the real programs behind the faked pods (tests/cluster/components.py),
    detached, and wait until CoreDNS answers for the kubernetes Service. Returns cluster.env's lines."""
    step = time.monotonic()
    ports = {"dns": free_dns_port(), "health": free_port(), "ready": free_port(), "metrics": free_port(),
             "upstream": free_dns_port()}
    folder = os.path.join(workdir, "components")
    os.makedirs(folder, exist_ok=True)
    command = [sys.executable, os.path.join(HERE, "components.py"), "--workdir", workdir, "--kubeconfig", kubeconfig,
               "--binaries", json.dumps(paths), "--ports", json.dumps(ports)]
    with open(os.path.join(folder, "supervisor.log"), "a", encoding="utf-8") as out:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    state = _load_state(workdir)
    state["supervisor"] = proc.pid
    state["ports"] = ports
    _save_state(workdir, state)
    name = "kubernetes.default.svc.%s" % site.cluster_domain
    deadline = time.monotonic() + timeout
    answer = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            answer = components.dns_query(ports["dns"], name, timeout=1)
        except OSError:
            answer = None
        if answer and answer[1] == [site.kubernetes_service_ip]:
            break
        time.sleep(0.3)
    else:
        logs = os.path.join(folder, "coredns", "log")
        detail = ""
        if os.path.exists(logs):
            with open(logs, encoding="utf-8", errors="replace") as handle:
                detail = build.last_lines(handle.read())
        raise build.BenchError("CoreDNS did not answer %s with %s on %s:%d within %ds (last answer %s; %s)"
                               % (name, site.kubernetes_service_ip, LOOPBACK, ports["dns"], timeout, answer,
                                  detail or "see " + folder))
    log("cluster: CoreDNS %s serves kube-system/coredns on %s:%d (udp+tcp), started in %.1fs"
        % (os.path.basename(os.path.dirname(paths["coredns"])), LOOPBACK, ports["dns"], time.monotonic() - step))
    return {"CLUSTER_DNS": "%s:%d" % (LOOPBACK, ports["dns"]), "CLUSTER_COMPONENTS_PID": str(proc.pid),
            "CLUSTER_COMPONENTS_DIR": folder}


def _write_env(path, env):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("# Written by `make cluster-up`; `make cluster-down` removes it.\n")
        for key in sorted(env):
            handle.write("%s=%s\n" % (key, shlex.quote(str(env[key]))))


def read_env(path):
    env = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                env[key] = " ".join(shlex.split(value))
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--inventory", "-i", default=os.path.join(REPO, "examples", "two-node"))
    parser.add_argument("--workdir", default=DEFAULT_WORKDIR)
    parser.add_argument("--port", type=int, default=0, help="kube-apiserver port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    workdir = os.path.abspath(args.workdir)
    try:
        if args.action == "down":
            down(workdir)
            return 0
        env = up(args.inventory, workdir, port=args.port or None)
    except build.Unavailable as err:
        print("cluster: %s" % err, file=sys.stderr)
        return build.EXIT_UNAVAILABLE
    except build.BenchError as err:
        print("cluster: %s" % err, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("cluster: interrupted; stopped what had started", file=sys.stderr)
        return 130
    env_file = os.path.join(workdir, "cluster.env")
    print("cluster: %s written. Use it with:" % os.path.relpath(env_file))
    print("  set -a; . %s; set +a" % os.path.relpath(env_file))
    print("  $KUBECTL get nodes -o wide        # or: make cluster-kubectl ARGS='get nodes -o wide'")
    print("  make cluster-down                  # stops every process it started")
    return 0


if __name__ == "__main__":
    sys.exit(main())
