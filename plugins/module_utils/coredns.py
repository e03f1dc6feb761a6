# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CoreDNS Corefile rendering: kubeadm default, merge into a live Corefile, validation.

What this collection manages in a Corefile, and nothing else:

* the upstreams of the root zone: the arguments of ``forward . ...`` (or of a legacy
  ``proxy . ...``) in the ``.:53`` server block; its options block is kept;
* stub domains: one server block ``zone:53 { errors cache 30 forward . servers }`` each. Blocks
  this collection created carry a ``# managed by edgeops.k8s_network`` comment line and are
  removed again when their zone leaves ``stub_domains``; a server block the user wrote for the
  same zone only gets its ``forward`` upstreams set;
* fixed host names: inline entries of the ``hosts`` plugin in the ``.:53`` block, with
  ``fallthrough``. A ``hosts`` block this collection created (marked like stub blocks) holds
  exactly the given entries. In a ``hosts`` block the user wrote (k3s's ``NodeHosts``), the
  given names are (re)written and every other entry, file and option is kept.

Validation refuses what CoreDNS would refuse at start-up and what would break cluster DNS; each
problem is a finding with a stable code (docs/codes.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import os
import re

try:
    import netaddr
except ImportError:  # reported by the module through ipranges.HAS_NETADDR
    pass

from ansible.module_utils.six import string_types

from ansible_collections.edgeops.k8s_network.plugins.module_utils import corefile as cf
from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges, k8s_names, manifest_file
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import errors_of, finding, warning
from ansible_collections.edgeops.k8s_network.plugins.module_utils.release_version import major_minor

DEFAULT_CLUSTER_DOMAIN = "cluster.local"
MARKER = "managed by edgeops.k8s_network"
MAX_UPSTREAMS = 15  # forward's ``const max``: more is a start-up error

# kubeadm's default Corefile (cmd/kubeadm/app/phases/addons/dns/manifests.go), DNSDomain filled
# in. Read at the release tags: v1.21.0 to v1.31.14 write the same text with a plain ``cache 30``;
# v1.32.0 and later (to v1.37.2 at least) keep the cluster domain out of the cache with a block
# (kubernetes/kubernetes#128359). A base of the wrong release would make a merge add or drop it.
_KUBEADM_COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes %(domain)s in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
%(cache)s    loop
    reload
    loadbalance
}
"""
_KUBEADM_CACHE = "    cache 30\n"
_KUBEADM_CACHE_BLOCK = """    cache 30 {
       disable success %(domain)s
       disable denial %(domain)s
    }
"""
KUBEADM_CACHE_BLOCK_SINCE = (1, 32)
# The oldest kubeadm whose default Corefile was read for this table.
OLDEST_KUBEADM = (1, 21)

# Plugins of CoreDNS's plugin.cfg, past and present; anything else is "Unknown directive".
KNOWN_DIRECTIVES = frozenset("""
    metadata geoip cancel tls timeouts multisocket reload nsid bufsize root bind debug trace ready
    health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite
    header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external
    kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view nomad quic
    grpc_server https https3 proxyproto import
""".split())
# Accepted by the CoreDNS releases that old kubeadm versions shipped, refused by current ones.
LEGACY_DIRECTIVES = {
    "proxy": "removed in CoreDNS 1.7.0; use forward",
    "federation": "no longer built into CoreDNS since 1.7.0",
}
# Plugins whose setup fails with "this plugin can only be used once per Server Block".
ONCE_PER_SERVER = frozenset(["hosts", "cache", "kubernetes", "reload"])
DEFAULT_PORTS = {"dns": 53, "tls": 853, "quic": 853, "grpc": 443, "https": 443, "https3": 443}
HOSTS_OPTIONS = frozenset(["ttl", "no_reverse", "reload", "fallthrough", "fallthrough_unsupported"])
# The file a managed hosts block reads. Without a file argument the plugin reads /etc/hosts of
# the CoreDNS container (kubelet's: localhost and the pod's own name, or the node's file in a
# hostNetwork pod) and serves it cluster-wide; /dev/null, which every container has, is empty,
# so only the site's inline entries are served.
NO_HOSTS_FILE = "/dev/null"
HOSTS_PREFIX_OPTIONS = frozenset(["no-reverse", "md5", "MD5", "sha1", "SHA1", "sha224", "sha512"])

_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\Z")
_CLUSTER_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")
_ZONE_TEXT = re.compile(r"[A-Za-z0-9_.*-]+\Z")
# An environment placeholder, whole: {$NAME} or {%NAME%} (CoreDNS's Windows form).
_PLACEHOLDER = re.compile(r"(\{\$[A-Za-z_][A-Za-z0-9_]*\}|\{%[A-Za-z_][A-Za-z0-9_]*%\})\Z")
_UPSTREAM_TEXT = re.compile(r"[A-Za-z0-9_.:/\[\]%@+=,~-]+\Z")
_SCHEME = re.compile(r"([A-Za-z0-9_]+)://(.*)\Z", re.DOTALL)


def kubeadm_default(cluster_domain=DEFAULT_CLUSTER_DOMAIN, kubernetes_version=None):
    """The Corefile ``kubeadm init`` of ``kubernetes_version`` (``(major, minor)``; None: the
    current release) writes for ``cluster_domain``."""
    cache = _KUBEADM_CACHE
    if kubernetes_version is None or tuple(kubernetes_version) >= KUBEADM_CACHE_BLOCK_SINCE:
        cache = _KUBEADM_CACHE_BLOCK % {"domain": cluster_domain}
    return _KUBEADM_COREFILE % {"domain": cluster_domain, "cache": cache}


def parse_kubernetes_version(value, field="kubernetes_version"):
    """``(version, findings)``: ``(major, minor)`` of ``v1.31.4``-like text; None when unset or refused."""
    if value in (None, ""):
        return None, []
    version = major_minor(value)
    if version is None:
        return None, [finding("coredns_kubernetes_version_invalid", field,
                              "%r is not a Kubernetes release such as v1.31.4" % (value,))]
    if version < OLDEST_KUBEADM:
        return None, [finding("coredns_kubernetes_version_unsupported", field,
                              "kubeadm %s is older than v%d.%d, the oldest release whose default Corefile is known"
                              " here; give the live Corefile (corefile) instead" % ((value,) + OLDEST_KUBEADM))]
    return version, []


# ---------------------------------------------------------------- names, zones, addresses


def is_dns_name(value, labels=_LABEL):
    value = value.rstrip(".")
    if not value or len(value) > 253:
        return False
    return all(labels.match(label) for label in value.lower().split("."))


def normalize_zone(zone):
    """CoreDNS's form of a zone: lower case, fully qualified; a CIDR becomes its reverse zone."""
    zone = zone.strip().lower()
    if zone in ("", "."):
        return "."
    if "/" in zone:
        try:
            network = ipranges.parse_network(zone, require_network=False)
        except ipranges.AddressError:
            network = None
        if network is not None:
            step = 8 if network.version == 4 else 4
            if network.prefixlen % step == 0:
                labels = network.network.reverse_dns.rstrip(".").split(".")
                keep = network.prefixlen // step
                width = 4 if network.version == 4 else 32
                return ".".join(labels[width - keep:]) + "."
    return zone if zone.endswith(".") else zone + "."


def covers(parent, child):
    """True when zone ``child`` lies in zone ``parent`` (both normalised)."""
    return parent == "." or child == parent or child.endswith("." + parent)


class ServerAddress(object):
    __slots__ = ("scheme", "zone", "port", "text")

    def __init__(self, scheme, zone, port, text):
        self.scheme = scheme
        self.zone = zone
        self.port = port
        self.text = text

    @property
    def key(self):
        return (self.scheme, self.zone, self.port)

    def __repr__(self):
        return "%s://%s:%d" % (self.scheme, self.zone, self.port)


def parse_server_address(text, line=None):
    """``[scheme://]zone[:port]`` of a server block; raises CorefileError ``corefile_invalid_address``."""
    scheme = "dns"
    rest = text
    match = _SCHEME.match(text)
    if match:
        scheme, rest = match.group(1).lower(), match.group(2)
        if scheme not in DEFAULT_PORTS:
            raise cf.CorefileError("corefile_invalid_address",
                                   "unknown scheme %r in server address %r" % (scheme, text), line)
    port = None
    zone = rest
    head = rest.split("/", 1)[0]
    if ":" in rest and not ("/" in rest and ":" in head):
        zone, port = rest.rsplit(":", 1)
    elif "/" in rest and ":" in head:
        # An IPv6 reverse zone as a CIDR; a port can only follow the prefix length.
        prefix = rest.split("/", 1)[1]
        if ":" in prefix:
            zone, port = rest.rsplit(":", 1)
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise cf.CorefileError("corefile_invalid_address", "bad port %r in server address %r" % (port, text), line)
        port = int(port)
    else:
        port = DEFAULT_PORTS[scheme]
    if zone not in ("", ".") and "/" not in zone and not _ZONE_TEXT.match(zone):
        raise cf.CorefileError("corefile_invalid_address", "%r is not a zone" % (zone,), line)
    return ServerAddress(scheme, normalize_zone(zone), port, text)


class UpstreamError(ValueError):
    pass


def parse_upstream(text):
    """One ``forward`` destination: ``(kind, address)`` with kind ``ip``, ``file`` or ``placeholder``.

    Forms CoreDNS accepts: ``IP``, ``IP:port``, ``[IPv6]:port``, each optionally behind
    ``dns://`` or ``tls://``, or a resolv.conf-style file path. Raises UpstreamError otherwise.
    """
    if not isinstance(text, string_types) or not text.strip():
        raise UpstreamError("%r: an upstream cannot be empty" % (text,))
    if _PLACEHOLDER.match(text):
        return "placeholder", None
    # One Corefile token: what would split it, quote it or open a block is never an upstream.
    if not _UPSTREAM_TEXT.match(text):
        raise UpstreamError("%r holds a character no upstream (IP[:port] or file path) has" % (text,))
    host = text
    match = _SCHEME.match(text)
    if match:
        if match.group(1).lower() not in ("dns", "tls"):
            raise UpstreamError("%r: forward only speaks dns:// and tls://" % text)
        host = match.group(2)
    elif text.startswith(("/", "./", "../")):
        return "file", None
    port = None
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise UpstreamError("%r: unclosed '['" % text)
        address, rest = host[1:end], host[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise UpstreamError("%r is not IP[:port]" % text)
            port = rest[1:]
    elif host.count(":") == 1:
        address, port = host.split(":")
    else:
        address = host
    if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
        raise UpstreamError("%r has a bad port" % text)
    try:
        return "ip", ipranges.parse_address(address)
    except ipranges.AddressError:
        raise UpstreamError("%r is neither an IP address (with an optional port) nor a file path" % text)


def is_loopback(address):
    """Loopback, or an address that reaches this host all the same (unspecified, v4-mapped)."""
    if address.version == 6 and address.is_ipv4_mapped():
        address = address.ipv4()
    return address.is_loopback() or int(address) == 0


# ---------------------------------------------------------------- inputs


def _names(value):
    if value is None:
        return []
    if isinstance(value, string_types):
        return [part for part in re.split(r"[\s,]+", value) if part]
    if isinstance(value, (list, tuple)):
        result = []
        for item in value:
            result.extend(_names(item))
        return result
    return [str(value)]


def reverse_zone_network(zone):
    """The addresses a reverse zone (``10.in-addr.arpa.``, ``8.b.d.0.1.0.0.2.ip6.arpa.``) holds; None otherwise."""
    for suffix, version, width, base in (("in-addr.arpa.", 4, 8, 10), ("ip6.arpa.", 6, 4, 16)):
        if zone != suffix and not zone.endswith("." + suffix):
            continue
        labels = zone[:-len(suffix)].rstrip(".").split(".") if zone != suffix else []
        bits = 32 if version == 4 else 128
        if len(labels) * width > bits:
            return None
        value = 0
        for label in reversed(labels):
            try:
                part = int(label, base)
            except ValueError:
                return None
            if not 0 <= part < 2 ** width or (base == 16 and len(label) != 1):
                return None
            value = (value << width) | part
        prefix = len(labels) * width
        address = netaddr.IPAddress(value << (bits - prefix), version)
        return netaddr.IPNetwork("%s/%d" % (address, prefix))
    return None


def _cluster_networks(pod_cidr, service_cidr):
    networks = []
    for label, value in (("pod CIDR", pod_cidr), ("service CIDR", service_cidr)):
        try:
            networks.append((label, ipranges.parse_network(value, require_network=False)))
        except (ipranges.AddressError, TypeError, ValueError):
            continue
    return networks


def normalize_inputs(cluster_domain=None, forwarders=None, stub_domains=None, hosts=None, pod_cidr=None,
                     service_cidr=None):
    """Check and normalise the managed settings. Returns ``(settings, findings)``.

    ``forwarders``/``stub_domains``/``hosts`` stay None when not given (merge leaves them alone).
    ``pod_cidr`` and ``service_cidr``, when given, are the cluster's own reverse zones: a stub
    domain may not take them from the kubernetes plugin.
    """
    found = []
    domain = str(cluster_domain or DEFAULT_CLUSTER_DOMAIN).strip().rstrip(".")
    if not is_dns_name(domain, _CLUSTER_LABEL) or domain != domain.lower():
        found.append(finding("cluster_domain_invalid", "cluster_domain",
                             "%r is not a DNS domain of lower-case labels" % (cluster_domain,)))

    def upstreams(field, servers):
        result = []
        for server in servers:
            try:
                kind, address = parse_upstream(server)
            except UpstreamError as exc:
                found.append(finding("forward_invalid_upstream", field, str(exc)))
                continue
            if kind == "ip" and is_loopback(address):
                found.append(finding("dns_server_loopback", field,
                                     "%s is a loopback address: CoreDNS's loop plugin would stop the pod" % server))
            result.append(server)
        if len(servers) > MAX_UPSTREAMS:
            found.append(finding("forward_too_many_upstreams", field,
                                 "%d upstreams; forward takes at most %d" % (len(servers), MAX_UPSTREAMS)))
        return result

    fwd = None
    if forwarders is not None:
        fwd = upstreams("forwarders", ipranges.split_list(forwarders))

    stubs = None
    if stub_domains is not None:
        stubs = []
        if not isinstance(stub_domains, dict):
            found.append(finding("stub_domain_invalid", "stub_domains",
                                 "stub_domains must map a zone to its DNS servers"))
            stub_domains = {}
        cluster = normalize_zone(domain)
        for zone in sorted(stub_domains, key=str):
            text = str(zone).strip().lower()
            field = "stub_domains.%s" % text
            normal = normalize_zone(text)
            if normal == "." or not (is_dns_name(text) or "/" in text and normal.endswith(".arpa.")):
                found.append(finding("stub_domain_invalid", field, "%r is not a zone a stub domain can serve"
                                     " (the root zone's upstreams are the forwarders)" % (zone,)))
                continue
            if covers(cluster, normal) or covers(normal, cluster):
                found.append(finding("stub_domain_invalid", field, "%s overlaps the cluster domain %s: its names"
                                     " would no longer reach the kubernetes plugin" % (text, domain)))
                continue
            reverse = reverse_zone_network(normal)
            taken = [(label, network) for label, network in _cluster_networks(pod_cidr, service_cidr)
                     if reverse is not None and reverse.version == network.version
                     and ipranges.overlaps(reverse, network)]
            if taken:
                found.append(finding("stub_domain_reverse_overlap", field, "%s (%s) covers the %s: PTR queries for"
                                     " the cluster's own addresses would go to the stub's servers instead of the"
                                     " kubernetes plugin" % (text, reverse.cidr, " and the ".join(
                                         "%s %s" % (label, network.cidr) for label, network in taken))))
                continue
            servers = ipranges.split_list(stub_domains[zone])
            if not servers:
                found.append(finding("forward_no_upstream", field, "no DNS server given for %s" % text))
                continue
            stubs.append((text.rstrip(".") if "/" not in text else text, normal, upstreams(field, servers)))

    entries = None
    if hosts is not None:
        entries = []
        if not isinstance(hosts, list):
            hosts = [hosts]
        for index, item in enumerate(hosts):
            field = "hosts[%d]" % index
            if not isinstance(item, dict):
                found.append(finding("hosts_entry_invalid", field, "each entry needs ip and names"))
                continue
            try:
                ip = ipranges.parse_address(item.get("ip"))
            except ipranges.AddressError:
                found.append(finding("hosts_entry_invalid", field, "%r is not an IP address" % (item.get("ip"),)))
                continue
            names = [n.lower().rstrip(".") for n in _names(item.get("names"))]
            bad = [n for n in names if not is_dns_name(n)]
            if not names or bad:
                found.append(finding("hosts_entry_invalid", field, "names must be DNS names, got %r"
                                     % (item.get("names"),)))
                continue
            # The hosts block sits ahead of the kubernetes plugin: a name in the cluster domain
            # would answer for a Service or Pod name in every namespace of the cluster.
            inside = [n for n in names if covers(normalize_zone(domain), normalize_zone(n))]
            if inside:
                found.append(finding("hosts_in_cluster_domain", field, "%s lies in the cluster domain %s, whose names"
                                     " only the kubernetes plugin may answer" % (inside[0], domain)))
                continue
            entries.append((str(ip), names))
    settings = {"cluster_domain": domain, "forwarders": fwd, "stub_domains": stubs, "hosts": entries}
    return settings, found


# ---------------------------------------------------------------- validation


def _expand(items, snippets, found, chain=()):
    """Directives of a block with snippet imports pasted in; also whether a file import remains."""
    result = []
    opaque = False
    for directive in items:
        if directive.name != "import":
            result.append(directive)
            continue
        target = directive.args[0]
        if target in chain:
            found.append(finding("corefile_syntax", "corefile", "line %d: snippet %s imports itself"
                                 % (directive.line, target)))
        elif target in snippets:
            more, more_opaque = _expand(snippets[target].items, snippets, found, chain + (target,))
            result.extend(more)
            opaque = opaque or more_opaque
        else:
            opaque = True
    return result, opaque


def _hosts_layout(directive):
    """``(zones given as arguments, fallthrough zones or None, inline entry directives)``."""
    args = list(directive.args)
    while args and args[0] in HOSTS_PREFIX_OPTIONS:
        args = args[1:]
    zones = [normalize_zone(z) for z in args[1:]]
    fall = None
    entries = []
    if directive.block is not None:
        for item in directive.block.items:
            if item.name == "fallthrough":
                fall = [normalize_zone(z) for z in item.args] or ["."]
            elif item.name not in HOSTS_OPTIONS and item.name != "import":
                entries.append(item)
    return zones, fall, entries


def _check_upstreams(directive, found):
    to = directive.args[1:]
    if not to:
        found.append(finding("forward_no_upstream", "corefile", "line %d: %s %s has no upstream"
                             % (directive.line, directive.name, " ".join(directive.args))))
        return
    if len(to) > MAX_UPSTREAMS and directive.name == "forward":
        found.append(finding("forward_too_many_upstreams", "corefile", "line %d: forward has %d upstreams;"
                             " CoreDNS refuses more than %d" % (directive.line, len(to), MAX_UPSTREAMS)))
    for server in to:
        try:
            kind, address = parse_upstream(server)
        except UpstreamError as exc:
            found.append(finding("forward_invalid_upstream", "corefile", "line %d: %s" % (directive.line, exc)))
            continue
        if kind == "ip" and is_loopback(address):
            found.append(finding("dns_server_loopback", "corefile", "line %d: %s forwards to %s, a loopback"
                                 " address: the loop plugin stops CoreDNS (CrashLoopBackOff)"
                                 % (directive.line, directive.name, server)))


def validate(tree, cluster_domain=DEFAULT_CLUSTER_DOMAIN):
    """Findings for a parsed Corefile: what CoreDNS refuses and what breaks cluster DNS."""
    found = []
    cluster = normalize_zone(cluster_domain)
    snippets = tree.snippets
    servers = []
    for server in tree.servers:
        addresses = []
        for token in server.key_tokens:
            value = token.value[:-1] if token.value.endswith(",") else token.value
            if not value or cf.is_placeholder(value):
                continue
            try:
                addresses.append(parse_server_address(value, token.line))
            except cf.CorefileError as exc:
                found.append(finding(exc.code, "corefile", exc.message))
        directives, opaque = _expand(server.items, snippets, found)
        servers.append((server, addresses, directives, opaque))

    seen = {}
    for server, addresses, directives, _opaque in servers:
        binds = frozenset(a for d in directives if d.name == "bind" for a in d.args)
        for address in addresses:
            for other_line, other_binds in seen.get(address.key, []):
                if binds and other_binds and binds.isdisjoint(other_binds):
                    continue  # the same zone and port on different listen addresses is allowed
                found.append(finding("corefile_duplicate_server", "corefile",
                                     "line %d: %s://%s:%d is already served by the block on line %d"
                                     % (server.line, address.scheme, address.zone, address.port, other_line)))
            seen.setdefault(address.key, []).append((server.line, binds))

    for server, addresses, directives, _opaque in servers:
        counts = {}
        for directive in directives:
            name = directive.name
            if cf.is_placeholder(name):
                continue
            if name in LEGACY_DIRECTIVES:
                found.append(warning("corefile_legacy_directive", "corefile", "line %d: %s is %s"
                                     % (directive.line, name, LEGACY_DIRECTIVES[name])))
            elif name not in KNOWN_DIRECTIVES:
                found.append(finding("corefile_unknown_directive", "corefile",
                                     "line %d: CoreDNS has no plugin %r (Unknown directive)" % (directive.line, name)))
            if name in ONCE_PER_SERVER:
                counts.setdefault(name, []).append(directive.line)
            if name in ("forward", "proxy"):
                _check_upstreams(directive, found)
            if name == "hosts":
                _check_hosts(server, addresses, directive, cluster, found)
        for name, lines in sorted(counts.items()):
            if len(lines) > 1:
                found.append(finding("corefile_directive_repeated", "corefile",
                                     "lines %s: %s can only be used once per server block"
                                     % (", ".join(str(n) for n in lines), name)))

    _check_cluster_domain(servers, cluster, cluster_domain, found)
    unique = []
    for item in found:
        if item not in unique:
            unique.append(item)
    return unique


def _check_hosts(server, addresses, directive, cluster, found):
    zones, fall, entries = _hosts_layout(directive)
    if fall is not None and directive.block is not None:
        after = False
        for item in directive.block.items:
            if item.name == "fallthrough":
                after = True
            elif after and item in entries:
                found.append(finding("hosts_entry_after_fallthrough", "corefile",
                                     "line %d: hosts entry %s after fallthrough (CoreDNS: unknown property)"
                                     % (item.line, item.name)))
    if not any(a.zone == "." and a.scheme == "dns" for a in addresses):
        return
    effective = zones or [a.zone for a in addresses]
    critical = [z for z in effective if z == "." or covers(z, cluster) or covers(cluster, z)]
    if not critical:
        return
    if fall is None:
        found.append(finding("hosts_without_fallthrough", "corefile",
                             "line %d: hosts in the root zone without fallthrough answers SERVFAIL for every"
                             " name it does not list, cluster names included" % directive.line))
        return
    missing = [z for z in critical if not any(covers(f, z) for f in fall)]
    if missing:
        found.append(finding("hosts_without_fallthrough", "corefile",
                             "line %d: hosts falls through only for %s, not for %s"
                             % (directive.line, " ".join(fall), " ".join(missing))))


def _check_cluster_domain(servers, cluster, cluster_domain, found):
    candidates = []
    for server, addresses, directives, opaque in servers:
        for address in addresses:
            if address.scheme == "dns" and address.port == 53 and covers(address.zone, cluster):
                candidates.append((address.zone.count("."), address, server, addresses, directives, opaque))
    if not candidates:
        found.append(finding("cluster_domain_not_served", "corefile",
                             "no server block on port 53 answers for %s" % cluster_domain))
        return
    deepest = max(c[0] for c in candidates)
    for _depth, address, server, addresses, directives, opaque in [c for c in candidates if c[0] == deepest]:
        if opaque:
            continue  # an imported file may hold the kubernetes plugin: nothing to judge here
        zones = []
        for directive in directives:
            if directive.name == "kubernetes":
                if any(cf.is_placeholder(a) for a in directive.args):
                    return
                zones.extend(normalize_zone(z) for z in directive.args or [a.zone for a in addresses])
        if cluster not in zones:
            found.append(finding("cluster_domain_not_served", "corefile",
                                 "line %d: queries for %s go to the %s block, which has no kubernetes plugin for"
                                 " that zone (with strategy merge the live cluster domain stays; use replace to"
                                 " change it)" % (server.line, cluster_domain, address.text)))


# ---------------------------------------------------------------- merge


def _marked(token):
    return MARKER in token.comments()


def _root_server(tree):
    for server in tree.servers:
        for key in server.keys:
            try:
                address = parse_server_address(key)
            except cf.CorefileError:
                continue
            if address.key == ("dns", ".", 53):
                return server
    return None


def _servers_by_zone(tree):
    """``{zone: server}`` of the plain DNS server blocks on port 53, the first block of a zone winning.

    Built once per merge: looking each stub zone up by a scan of every block made thousands of
    stub domains cost quadratic time.
    """
    found = {}
    for server in tree.servers:
        for key in server.keys:
            try:
                address = parse_server_address(key)
            except cf.CorefileError:
                continue
            if address.scheme == "dns" and address.port == 53:
                found.setdefault(address.zone, server)
    return found


def _upstream_directive(block, zones):
    for name in ("forward", "proxy"):
        for directive in block.find(name):
            if directive.args and normalize_zone(directive.args[0]) in zones:
                return directive
    return None


def _position(block, before_names):
    for name in before_names:
        for index, item in enumerate(block.items):
            if item.name == name:
                return index
    return len(block.items)


def _set_upstreams(tree, server, zones, servers):
    unit = tree.indent_unit()
    directive = _upstream_directive(server.block, zones)
    if directive is None:
        index = _position(server.block, ["cache", "loop", "reload"])
        cf.insert(server.block, index, cf.new_directive("forward", ["."] + servers), "", unit, tree.newline)
    elif directive.args[1:] != servers:
        directive.set_args(directive.args[:1] + servers)


def entries_by_zone(entries, zones):
    """The hosts entries whose names fall in one of ``zones``, as ``{zone: [(ip, names)]}``.

    CoreDNS hands a query to the server block with the longest matching zone, so a name in a
    stub zone never reaches the root block's hosts plugin: it is answered in the stub's block
    or not at all. Each name goes to the deepest zone that covers it.
    """
    placed = {}
    for ip, names in entries or []:
        for name in names:
            normal = normalize_zone(name)
            covering = [zone for zone in zones if zone != "." and covers(zone, normal)]
            if not covering:
                continue
            zone = max(covering, key=lambda z: z.count("."))
            target = placed.setdefault(zone, [])
            for item in target:
                if item[0] == ip:
                    item[1].append(name)
                    break
            else:
                target.append((ip, [name]))
    return placed


def _merge_stubs(tree, stubs, hosts=None):
    wanted = set()
    in_zones = entries_by_zone(hosts, [zone for _display, zone, _servers in stubs])
    by_zone = _servers_by_zone(tree)
    for display, zone, servers in stubs:
        wanted.add(zone)
        server = by_zone.get(zone)
        if server is None:
            children = [cf.new_directive("errors"), cf.new_directive("cache", ["30"]),
                        cf.new_directive("forward", ["."] + servers)]
            by_zone[zone] = cf.new_server(["%s:53" % display], children)
            tree.append_server(by_zone[zone], comments=[MARKER])
            server = by_zone[zone]
        else:
            _set_upstreams(tree, server, (".", zone), servers)
        _merge_hosts(tree, server, in_zones.get(zone, []))
    for server in list(tree.servers):
        if not _marked(server.key_tokens[0]) or len(server.keys) != 1:
            continue
        try:
            zone = parse_server_address(server.keys[0]).zone
        except cf.CorefileError:
            continue
        if zone not in wanted:
            tree.remove(server)


def _entry_of(directive):
    return (directive.name, [a.lower().rstrip(".") for a in directive.args])


def _merge_hosts(tree, server, entries):
    """Set the managed hosts entries of one server block (the root's, or a stub's)."""
    unit = tree.indent_unit()
    nl = tree.newline
    block = server.block
    existing = block.first("hosts")
    if existing is None:
        if entries:
            children = [cf.new_directive(ip, names) for ip, names in entries]
            children.append(cf.new_directive("fallthrough"))
            index = _position(block, ["prometheus", "forward", "cache", "loop", "reload"])
            cf.insert(block, index, cf.new_directive("hosts", [NO_HOSTS_FILE], children, comments=[MARKER]),
                      "", unit, nl)
        return
    marked = _marked(existing.head[0])
    file_args = [a for a in existing.args if a not in HOSTS_PREFIX_OPTIONS]
    if marked and not entries and file_args in ([], [NO_HOSTS_FILE]):
        cf.remove(block, existing)
        return
    if marked and entries and existing.args != [NO_HOSTS_FILE]:
        # Written by an earlier release without a file: it served the container's /etc/hosts too.
        existing.set_args([NO_HOSTS_FILE])
    if existing.block is None:
        if not entries:
            return
        existing.block = cf.Block(cf.Token("{", pre=" "), [], cf.Token("}"))
        existing.head[-1].post, existing.block.close.post = "", existing.head[-1].post
    sub = existing.block
    indent = cf.indentation(existing.head[0])
    sub_unit = cf.nested_unit(block, unit)
    _zones, _fall, current = _hosts_layout(existing)
    ours = set(name for _ip, names in entries for name in names)
    kept = []
    for item in current:
        if marked:
            continue
        ip, names = _entry_of(item)
        left = [n for n in item.args if n.lower().rstrip(".") not in ours]
        if left:
            kept.append((item, left))
    desired = [(_entry_of(item)[0], [n.lower().rstrip(".") for n in left]) for item, left in kept] + list(entries)
    if [_entry_of(item) for item in current] == desired and (not entries or sub.first("fallthrough")):
        return
    for item in current:
        still = [left for other, left in kept if other is item]
        if not still:
            cf.remove(sub, item)
        elif still[0] != item.args:
            item.set_args(still[0])
    index = 0
    for pos, item in enumerate(sub.items):
        if any(item is other for other, _left in kept):
            index = pos + 1
    for ip, names in entries:
        cf.insert(sub, index, cf.new_directive(ip, names), indent, sub_unit, nl)
        index += 1
    if entries and sub.first("fallthrough") is None:
        cf.insert(sub, len(sub.items), cf.new_directive("fallthrough"), indent, sub_unit, nl)


def merge_tree(tree, settings):
    """Apply the managed settings (from ``normalize_inputs``) to ``tree`` in place; returns findings."""
    found = []
    forwarders = settings.get("forwarders")
    hosts = settings.get("hosts")
    root = _root_server(tree)
    if root is None and (forwarders or hosts):
        found.append(finding("corefile_no_root_server", "corefile",
                             "the Corefile has no .:53 server block to put forwarders or hosts into"))
    if root is not None and forwarders:
        _set_upstreams(tree, root, (".",), forwarders)
    # Every entry also stays in the root block: its reverse (PTR) answers are asked there.
    _merge_stubs(tree, settings.get("stub_domains") or [], hosts)
    if root is not None:
        _merge_hosts(tree, root, hosts or [])
    found.extend(check_hosts_reached(tree, hosts))
    return found


def _hosts_names(server):
    names = set()
    for directive in server.block.find("hosts"):
        for item in _hosts_layout(directive)[2]:
            names.update(normalize_zone(name) for name in item.args)
    return names


def check_hosts_reached(tree, entries):
    """Findings for managed names that a more specific server block takes without answering them."""
    # The first block of a zone wins, as max() below would pick it among blocks of one zone.
    zones = list(_servers_by_zone(tree).items())
    found = []
    for ip, names in entries or []:
        for name in names:
            normal = normalize_zone(name)
            covering = [(zone, server) for zone, server in zones if covers(zone, normal)]
            if not covering:
                continue
            zone, server = max(covering, key=lambda pair: pair[0].count("."))
            if zone == "." or normal in _hosts_names(server):
                continue
            found.append(finding("hosts_name_shadowed", "hosts",
                                 "%s (%s) is never answered: CoreDNS sends it to the server block for %s on line %d,"
                                 " which has no hosts entry for it; list %s under stub_domains, or add the entry to"
                                 " that block" % (name, ip, zone, server.line, zone.rstrip("."))))
    return found


def render(corefile=None, cluster_domain=DEFAULT_CLUSTER_DOMAIN, forwarders=None, stub_domains=None,
           hosts=None, strategy="merge", kubernetes_version=None, pod_cidr=None, service_cidr=None):
    """The Corefile to deploy and the findings. Returns ``(text or None, findings)``.

    ``merge`` edits ``corefile`` (the live one; the kubeadm default when empty), ``replace``
    starts from the kubeadm default, that of ``kubernetes_version`` when given. The result is
    parsed again and validated; the text is None when the inputs or the live Corefile cannot be
    read at all.
    """
    settings, found = normalize_inputs(cluster_domain, forwarders, stub_domains, hosts, pod_cidr, service_cidr)
    version, version_found = parse_kubernetes_version(kubernetes_version)
    found.extend(version_found)
    if any(f["severity"] == "error" for f in found):
        return None, found
    domain = settings["cluster_domain"]
    base = corefile if strategy == "merge" and corefile and corefile.strip() else kubeadm_default(domain, version)
    try:
        tree = cf.parse(base)
    except cf.CorefileError as exc:
        return None, found + [finding(exc.code, "corefile", exc.message)]
    found.extend(merge_tree(tree, settings))
    text = tree.emit()
    try:
        found.extend(validate(cf.parse(text), domain))
    except cf.CorefileError as exc:  # pragma: no cover - the editor only writes what the parser reads
        found.append(finding(exc.code, "corefile", exc.message))
    return text, found


def merge(corefile, cluster_domain=DEFAULT_CLUSTER_DOMAIN, forwarders=None, stub_domains=None, hosts=None, **more):
    return render(corefile, cluster_domain, forwarders, stub_domains, hosts, strategy="merge", **more)


def replace(cluster_domain=DEFAULT_CLUSTER_DOMAIN, forwarders=None, stub_domains=None, hosts=None, **more):
    return render(None, cluster_domain, forwarders, stub_domains, hosts, strategy="replace", **more)


def validate_text(text, cluster_domain=DEFAULT_CLUSTER_DOMAIN):
    """Findings for Corefile ``text``, parse errors included."""
    try:
        tree = cf.parse(text)
    except cf.CorefileError as exc:
        return [finding(exc.code, "corefile", exc.message)]
    return validate(tree, cluster_domain)


# ---------------------------------------------------------------- objects and diff


def configmap(corefile, namespace="kube-system", name="coredns"):
    """The ConfigMap CoreDNS mounts (kubeadm's shape: key ``Corefile``)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"Corefile": corefile},
    }


def unified_diff(before, after, label="Corefile", origin="live"):
    """A unified diff of two Corefiles ('' when equal); ``origin`` names where ``before`` came from."""
    before = before or ""
    after = after or ""
    if before == after:
        return ""
    old = before.splitlines(True)
    new = after.splitlines(True)
    for lines in (old, new):
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n\\ No newline at end of file\n"
    return "".join(difflib.unified_diff(old, new, "%s (%s)" % (label, origin), "%s (rendered)" % label))


# ---------------------------------------------------------------- one run of coredns_config


def settings_from(params):
    """coredns_config's options with the compute_network defaults filled in; ``(settings, findings)``."""
    found = []
    network = params.get("compute_network") or {}
    domain = params.get("cluster_domain") or network.get("cluster_domain") or DEFAULT_CLUSTER_DOMAIN
    raw = params.get("forwarders")
    if isinstance(raw, list) and any(not item or not str(item).strip() for item in raw):
        # Dropped quietly, an empty entry would let the compute network's servers stand in.
        found.append(finding("forward_invalid_upstream", "forwarders", "an entry of forwarders is empty"))
    for field, default, problem_of, what in (("namespace", "kube-system", k8s_names.label_problem, "namespace name"),
                                             ("configmap_name", "coredns", k8s_names.subdomain_problem,
                                              "ConfigMap name")):
        value = params.get(field)
        problem = problem_of(default if value is None else value, what)
        if problem:
            found.append(finding("coredns_name_invalid", field, problem))
    forwarders = ipranges.split_list(raw)
    if not forwarders:
        servers = network.get("dns_servers")
        if servers is not None and not isinstance(servers, (list, str)):
            found.append(finding("coredns_compute_network_invalid", "compute_network.dns_servers",
                                 "dns_servers must be a list of addresses"))
            servers = None
        forwarders = ipranges.split_list(servers)
    return {
        "corefile": params.get("corefile"),
        "cluster_domain": domain,
        "forwarders": forwarders or None,
        "stub_domains": params.get("stub_domains"),
        "hosts": params.get("hosts"),
        "strategy": params.get("strategy") or "merge",
        "kubernetes_version": params.get("kubernetes_version"),
        "pod_cidr": network.get("pod_cidr"),
        "service_cidr": network.get("service_cidr"),
    }, found


def config_run(params, files, show_diff):
    """One run of coredns_config from its validated options: ``(result, findings)``.

    ``files`` writes ``dest`` (see manifest_file.write_text). With ``dest`` the run's
    effect is the file: a Corefile given for a bundle is not live.
    """
    settings, found = settings_from(params)
    text, rendered_findings = render(**settings)
    found.extend(rendered_findings)
    if text is None or errors_of(found):
        return {"changed": False}, found

    base = params.get("corefile") or ""
    is_live = params.get("corefile_live", True) is not False
    origin = "live" if is_live else "given"
    namespace = "kube-system" if params.get("namespace") is None else params["namespace"]
    name = "coredns" if params.get("configmap_name") is None else params["configmap_name"]
    resources = [configmap(text, namespace, name)]
    result = dict(
        corefile=text,
        resources=resources,
        corefile_diff=unified_diff(base, text, origin=origin) if base else "",
        # Only a Corefile that runs now can change; a given base is not applied anywhere.
        changed=bool(base) and is_live and base != text,
    )
    diffs = [{
        "before": base,
        "after": text,
        "before_header": "%s/%s Corefile (%s)" % (namespace, name, origin),
        "after_header": "%s/%s Corefile (rendered)" % (namespace, name),
    }]
    dest = params.get("dest")
    if dest:
        # type=path has already expanded ~ and variables
        result["changed"], dest_diff = manifest_file.write_or_refuse(files, dest, manifest_file.dump_resources(resources),
                                                                     found)
        result["dest"] = os.path.abspath(dest)
        if dest_diff:
            diffs.append(dest_diff)
    if show_diff:
        result["diff"] = diffs if dest else diffs[0]
    return result, found
