# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compute network check: every rule of DESIGN.md 3.1, as plain functions.

``check_compute_network(settings)`` takes the module's options as a dict and returns
``(compute_network, findings)``: the normalised network and every problem found, all at
once. Each rule is one small function named after what it checks; every finding code is
a literal string at the line that raises it, so searching for a code finds its rule.

All address work is on ranges (``ipranges``): a /8 costs what a /30 costs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.six import string_types

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges, pod_mtu
from ansible_collections.edgeops.k8s_network.plugins.module_utils.bgp import ASN_RANGES_TEXT, usable_asn
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import (
    failure_message,
    finding,
    warning,
    warning_lines,
)

try:
    import netaddr
except ImportError:  # reported by the module through ipranges.HAS_NETADDR
    pass


DEFAULT_POD_CIDR = "172.27.0.0/16"
DEFAULT_SERVICE_CIDR = "172.28.0.0/16"
DEFAULT_CLUSTER_DOMAIN = "cluster.local"

# Extra node IPs beyond one per device node: the master VM (kubernetes), or the AKS
# management and target control planes, their API VIPs and a rolling-update spare (aks).
PROFILE_EXTRA_NODE_IPS = {"kubernetes": 1, "aks": 5}

# The API server refuses IPv4 service CIDRs wider than this (--service-cluster-ip-range).
MAX_SERVICE_CIDR_PREFIX_V4 = 12

# kube-dns listens on the tenth address of the service CIDR (kubeadm's choice).
CLUSTER_DNS_INDEX = 10

# Calico's IPv4 block sizes; a node count Kubernetes supports (its tested limit is 5,000 nodes);
# every MTU an IPv4 link can have (RFC 791 minimum, 16-bit length).
BLOCK_SIZE_BOUNDS = (20, 32)
NODE_COUNT_BOUNDS = (1, 5000)
MTU_BOUNDS = (68, 65535)
MTU_DEFAULT_RANGE = (1400, 1500)
_DOMAIN_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")


class _Check(object):
    """Collects findings; ``field`` names are prefixed so they match what the user typed."""

    def __init__(self, field_prefix=""):
        self.findings = []
        self.prefix = field_prefix or ""

    def name(self, field):
        return self.prefix + field

    def error(self, code, field, message):
        self.findings.append(finding(code, self.name(field), message))

    def warn(self, code, field, message):
        self.findings.append(warning(code, self.name(field), message))


# ---------------------------------------------------------------------------
# Parsing: each setting into integers, reporting malformed values.
#
# A range is a ``(first, last)`` pair of IPv4 integers (``ipranges`` spans), a network a
# ``_Net``, an address an ``_Address``. netaddr objects are built only for IPv6 input and
# for the errors' wording (in ipranges); every list is merged once, in ``_Lists``.
# ---------------------------------------------------------------------------

class _Net(object):
    """An IPv4 network: ``first``, ``last``, ``prefix``; ``cidr`` as text."""

    __slots__ = ("first", "last", "prefix", "cidr")

    def __init__(self, first, last, prefix, cidr=None):
        self.first, self.last, self.prefix = first, last, prefix
        self.cidr = cidr or "%s/%d" % (ipranges.ipv4_text(first), prefix)

    @property
    def size(self):
        return self.last - self.first + 1

    @property
    def span(self):
        return (self.first, self.last)


class _Address(object):
    """One address: ``version``, ``value`` (integer) and ``text`` (canonical)."""

    __slots__ = ("version", "value", "text")

    def __init__(self, version, value, text=None):
        self.version, self.value = version, value
        self.text = text or ipranges.format_address(value, version)

    def __str__(self):
        return self.text

    def is_loopback(self):
        if self.version == 4:
            return self.value >> 24 == 127
        return netaddr.IPAddress(self.value, 6).is_loopback()


class _Ranges(object):
    """A range-valued setting: ``spans`` as given, ``merged`` (ipranges.merge_spans), and ``texts``,
    the merged spans' span_text where the setting gave them so (else None)."""

    __slots__ = ("spans", "merged", "texts", "apart")

    def __init__(self, spans, texts=None, apart=False):
        self.spans = spans
        # A list whose spans lie apart (plain_ipv4_ranges) is its own merge, its texts the merge's.
        self.apart = apart
        self.merged = spans if apart else ipranges.merge_spans(spans)
        self.texts = texts if apart else None


_NO_RANGES = _Ranges([])


def _ipv4_ranges(check, field, value, require_network=True):
    """Parse a range-valued setting (``_Ranges``); IPv6 entries are reported and dropped."""
    if value is None or value == []:
        return _NO_RANGES
    plain = ipranges.plain_ipv4_ranges(value)
    if plain is not None:
        return _Ranges(*plain)
    return _Ranges(_ipv4_spans(check, field, value, require_network))


def _ipv4_spans(check, field, value, require_network):
    spans, errors = ipranges.parse_spans(value, require_network=require_network)
    for item, error in errors:
        check.error(error.code, field, error.message)
    usable = [(first, last) for version, first, last in spans if version == 4]
    if len(usable) < len(spans):
        for version, first, last in spans:
            if version != 4:
                check.error("ipv6_unsupported", field, "%s is IPv6; the compute network is IPv4 only"
                            % ipranges.span_text(first, last, version))
    return usable


def _ipv4_network(check, field, value):
    """Parse a CIDR-valued setting (pod CIDR, service CIDR, subnet)."""
    if isinstance(value, string_types):
        known = ipranges.canonical_ipv4_network(value)
        if known is not None:
            return _Net(known[0], known[1], known[2], str(value))  # plain text, as formatted
    if value is None or (isinstance(value, string_types) and not value.strip()):
        return None
    if not isinstance(value, string_types):
        check.error("invalid_address", field, "%r is not a CIDR" % (value,))
        return None
    try:
        version, first, last, prefix = ipranges.network_value(value, require_network=True)
    except ipranges.AddressError as error:
        check.error(error.code, field, error.message)
        return None
    if version != 4:
        check.error("ipv6_unsupported", field, "%s is IPv6; the compute network is IPv4 only" % value)
        return None
    return _Net(first, last, prefix)


def _address(check, field, value, ipv4_only=True):
    if isinstance(value, string_types):
        known = ipranges.canonical_ipv4(value)
        if known is not None:
            return _Address(4, known, str(value))
    if value is None or (isinstance(value, string_types) and not value.strip()):
        return None
    try:
        version, number = ipranges.address_value(value)
    except ipranges.AddressError as error:
        check.error(error.code, field, error.message)
        return None
    if ipv4_only and version != 4:
        check.error("ipv6_unsupported", field, "%s is IPv6; the compute network is IPv4 only" % value)
        return None
    return _Address(version, number)


def _addresses(check, field, value, ipv4_only=True):
    result = []
    for item in ipranges.split_list(value):
        address = _address(check, field, item, ipv4_only=ipv4_only)
        if address is not None:
            result.append(address)
    return result


def _int(check, code, field, value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None or (isinstance(value, string_types) and not value.strip()):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, float) and value != int(value):
            raise ValueError
        return int(value)
    except (TypeError, ValueError, OverflowError):
        check.error(code, field, "%r is not a whole number" % (value,))
        return None


def _describe(span):
    first, last = span
    return ipranges.ipv4_text(first) if first == last else ipranges.span_text(first, last)


# ---------------------------------------------------------------------------
# Rules on the nodes as they are (from gathered facts).
# ---------------------------------------------------------------------------

def _parse_nodes(check, nodes, interface):
    """Each node's compute interface as ``{name, address, network, mtu, gateway}``."""
    parsed = []
    for index, node in enumerate(nodes or []):
        if not isinstance(node, dict):
            check.error("node_interface_missing", "nodes", "entry %d is not a mapping" % index)
            continue
        name = str(node.get("name") or "node%d" % index)
        iface = node.get("interface") or interface or "?"
        raw = node.get("address")
        if not raw:
            check.error("node_interface_missing", "nodes",
                        "node %s has no IPv4 address on compute interface %s" % (name, iface))
            continue
        text = str(raw)
        try:
            if "/" in text:
                address_part = text.split("/", 1)[0]
                version, first, last, prefix = ipranges.network_value(text, require_network=False)
            else:
                address_part = text
                version, first, last, prefix = ipranges.network_value(text + "/32", require_network=False)
            version, value = ipranges.address_value(address_part)
        except ipranges.AddressError as error:
            check.error(error.code, "nodes", "node %s: %s" % (name, error.message))
            continue
        if version != 4:
            check.error("node_interface_missing", "nodes",
                        "node %s has no IPv4 address on compute interface %s (found %s)" % (name, iface, raw))
            continue
        mtu = _int(check, "mtu_out_of_range", "nodes", node.get("mtu"))
        gateway = _address(check, "nodes", node.get("gateway")) if node.get("gateway") else None
        parsed.append({"name": name, "interface": iface, "address": _Address(4, value),
                       "network": _Net(first, last, prefix), "mtu": mtu, "gateway": gateway})
    return parsed


def check_nodes_agree(check, nodes, subnet):
    """Nodes share one compute subnet and MTU, and no address twice."""
    if not nodes:
        return
    networks = sorted(set(node["network"].cidr for node in nodes if node["network"].prefix < 32))
    if len(networks) > 1:
        check.error("node_subnet_mismatch", "nodes", "nodes disagree on the compute subnet: %s" % ", ".join(
            "%s=%s" % (node["name"], node["network"].cidr) for node in nodes))
    if subnet is not None:
        for node in nodes:
            if not subnet.first <= node["address"].value <= subnet.last:
                check.error("node_subnet_mismatch", "nodes", "node %s address %s is outside the compute subnet %s"
                            % (node["name"], node["address"], subnet.cidr))
    mtus = sorted(set(node["mtu"] for node in nodes if node["mtu"] is not None))
    if len(mtus) > 1:
        check.error("node_mtu_mismatch", "nodes", "nodes disagree on the compute MTU: %s" % ", ".join(
            "%s=%s" % (node["name"], node["mtu"]) for node in nodes if node["mtu"] is not None))
    seen = {}
    for node in nodes:
        key = node["address"].value
        if key in seen:
            check.error("duplicate_node_address", "nodes", "nodes %s and %s share address %s"
                        % (seen[key], node["name"], node["address"]))
        else:
            seen[key] = node["name"]


# ---------------------------------------------------------------------------
# Rules on the settings.
# ---------------------------------------------------------------------------

def check_node_ip_count(check, node_merged, node_count, profile):
    needed = node_count + PROFILE_EXTRA_NODE_IPS[profile]
    have = ipranges.spans_size(node_merged)
    if have < needed:
        check.error("node_ips_too_few", "node_ips",
                    "%d node IP(s) given; a %d-node site needs at least %d (%s profile: nodes + %d)"
                    % (have, node_count, needed, profile, PROFILE_EXTRA_NODE_IPS[profile]))


def check_inside_subnet(check, code, field, ranges, subnet):
    """Every span of ``ranges`` (``_Ranges``) inside the subnet."""
    merged = ranges.merged
    if not merged or (subnet.first <= merged[0][0] and merged[-1][1] <= subnet.last):
        return  # the merge's ends are the lowest and highest address of the list
    for first, last in ranges.spans:
        if not (subnet.first <= first and last <= subnet.last):
            check.error(code, field, "%s is not inside the compute subnet %s" % (_describe((first, last)), subnet.cidr))


def check_reserved(check, field, ranges, subnet, gateway, reserved, merged):
    """Ranges must not take the subnet's network or broadcast address, the gateway or a reserved entry.

    ``merged`` is ``ranges`` merged (ipranges.merge_spans).
    """
    # What each entry is, as a format and its arguments: worded only for a finding.
    taken = []
    if subnet is not None and subnet.prefix < 31:
        taken.append((subnet.first, subnet.first, "the network address of %s", (subnet.cidr,)))
        taken.append((subnet.last, subnet.last, "the broadcast address of %s", (subnet.cidr,)))
    if gateway is not None:
        taken.append((gateway.value, gateway.value, "the gateway", ()))
    for first, last in reserved:
        taken.append((first, last, "reserved", ()))
    if not taken:
        return
    # Most sites take none of them: for a long list, one walk over the merged lists says so.
    if len(ranges) > 8 and ipranges.first_shared_span(merged, ipranges.merge_spans(entry[:2] for entry in taken)) is None:
        return
    for item in ranges:
        first, last = item
        for other_first, other_last, what, what_args in taken:
            if first <= other_last and other_first <= last:
                shared = (first if first > other_first else other_first, last if last < other_last else other_last)
                check.error("reserved_address", field,
                            "%s includes %s (%s)" % (_describe(item), _describe(shared), what % what_args))


def check_service_ips_miss_nodes(check, service_ranges, nodes):
    for node in nodes:
        value = node["address"].value
        for item in service_ranges:
            if item[0] <= value <= item[1]:
                check.error("reserved_address", "external_service_ips", "%s includes node %s's own address %s"
                            % (_describe(item), node["name"], node["address"]))


def check_no_overlap_within(check, field, ranges):
    """Entries of one list must not share an address (sorted sweep, not all pairs)."""
    widest = None
    for item in sorted(ranges):
        if widest is not None and item[0] <= widest[1]:
            check.error("ranges_overlap", field, "%s overlaps %s" % (_describe(item), _describe(widest)))
        if widest is None or item[1] > widest[1]:
            widest = item


def check_node_and_service_ranges_apart(check, node_merged, service_merged):
    for shared in ipranges.shared_spans(node_merged, service_merged):
        check.error("ranges_overlap", "external_service_ips",
                    "node IPs and external service IPs share %s" % _describe(shared))


# Pairs of site networks that must not share any address. The compute subnet is left out
# against the node and service ranges, gateway and DNS servers: those rightly lie inside it.
_APART = (
    ("pod_cidr", "service_cidr"),
    ("pod_cidr", "subnet"), ("service_cidr", "subnet"),
    ("pod_cidr", "node_ips"), ("service_cidr", "node_ips"),
    ("pod_cidr", "external_service_ips"), ("service_cidr", "external_service_ips"),
    ("pod_cidr", "dns_servers"), ("service_cidr", "dns_servers"),
    ("pod_cidr", "gateway"), ("service_cidr", "gateway"),
    ("pod_cidr", "nodes"), ("service_cidr", "nodes"),
    ("node_ips", "dns_servers"), ("external_service_ips", "dns_servers"),
)


def check_cidrs_apart(check, networks):
    """Any shared address between two networks of ``_APART`` (containment or partial).

    ``networks`` maps a field to ``(label, merged spans)``, a label as a format and its arguments
    (worded only for a finding); kubespray-style checks that only compare network addresses miss
    supernets and partial overlaps, this does not.
    """
    for field, other in _APART:
        label, spans = networks[field]
        other_label, other_spans = networks[other]
        if not spans or not other_spans:
            continue
        shared = ipranges.first_shared_span(spans, other_spans)
        if shared is not None:
            check.error("cidr_overlap", field, "%s overlaps %s at %s"
                        % (label[0] % label[1], other_label[0] % other_label[1], _describe(shared)))


def check_service_cidr_size(check, service_cidr):
    if service_cidr.size <= CLUSTER_DNS_INDEX:
        check.error("service_cidr_too_small", "service_cidr",
                    "%s has no room for the cluster DNS IP (address number %d)" % (service_cidr.cidr, CLUSTER_DNS_INDEX))
    if service_cidr.prefix < MAX_SERVICE_CIDR_PREFIX_V4:
        check.error("service_cidr_too_large", "service_cidr",
                    "%s is larger than the API server accepts (/%d at most for IPv4)"
                    % (service_cidr.cidr, MAX_SERVICE_CIDR_PREFIX_V4))


def check_pod_cidr_blocks(check, pod_cidr, block_size, kubernetes_nodes):
    if block_size < pod_cidr.prefix:
        check.error("pod_cidr_too_small", "pod_cidr", "%s is smaller than one /%d Calico block"
                    % (pod_cidr.cidr, block_size))
        return
    blocks = 2 ** (block_size - pod_cidr.prefix)
    if blocks < kubernetes_nodes:
        check.error("pod_cidr_too_small", "pod_cidr", "%s holds %d /%d block(s) but the site has %d Kubernetes node(s)"
                    % (pod_cidr.cidr, blocks, block_size, kubernetes_nodes))


def check_gateway(check, gateway, subnet):
    if gateway is not None and subnet is not None and not subnet.first <= gateway.value <= subnet.last:
        check.error("gateway_outside_subnet", "gateway", "%s is not inside the compute subnet %s" % (gateway, subnet.cidr))


def check_dns_servers(check, dns_servers):
    for server in dns_servers:
        if server.is_loopback():
            check.error("dns_server_loopback", "dns_servers",
                        "%s is a loopback address: CoreDNS would forward to itself and its loop plugin "
                        "would crash it; give the site's real DNS servers" % server)


def _bounded(check, code, field, value, bounds, default):
    """A whole number within ``bounds`` (inclusive); ``default`` when absent or refused."""
    number = _int(check, code, field, value)
    if number is None:
        return default
    if not bounds[0] <= number <= bounds[1]:
        check.error(code, field, "%d is not between %d and %d" % (number, bounds[0], bounds[1]))
        return default
    return number


def check_mtu_bounds(check, mtu_min, mtu_max):
    """The MTU bounds themselves: each a possible IPv4 MTU, the lower not above the upper."""
    low = _bounded(check, "mtu_bounds_invalid", "mtu_min", mtu_min, MTU_BOUNDS, MTU_DEFAULT_RANGE[0])
    high = _bounded(check, "mtu_bounds_invalid", "mtu_max", mtu_max, MTU_BOUNDS, MTU_DEFAULT_RANGE[1])
    if low > high:
        check.error("mtu_bounds_invalid", "mtu_min", "mtu_min %d is above mtu_max %d" % (low, high))
        return MTU_DEFAULT_RANGE
    return low, high


def check_mtu(check, mtu, mtu_min, mtu_max):
    if mtu is not None and not mtu_min <= mtu <= mtu_max:
        check.error("mtu_out_of_range", "mtu", "%d is outside %d-%d" % (mtu, mtu_min, mtu_max))


def check_vlan(check, vlan_id):
    if vlan_id is not None and not 0 <= vlan_id <= 4094:
        check.error("vlan_id_invalid", "vlan_id", "%d is outside 0-4094 (0 means untagged)" % vlan_id)


def _asn(check, label, value):
    number = usable_asn(value)
    if number is None:
        check.error("bgp_asn_invalid", "bgp_peers", "%s: %r is not a usable ASN (%s)" % (label, value, ASN_RANGES_TEXT))
    return number


def check_bgp_peers(check, peers):
    normalised = []
    for index, peer in enumerate(peers or []):
        if not isinstance(peer, dict):
            check.error("invalid_address", "bgp_peers", "entry %d is not a mapping" % index)
            continue
        address = _address(check, "bgp_peers", peer.get("peer_address"), ipv4_only=False)
        if address is None and not peer.get("peer_address"):
            check.error("invalid_address", "bgp_peers", "entry %d has no peer_address" % index)
        peer_asn = _asn(check, "entry %d peer_asn" % index, peer.get("peer_asn"))
        my_asn = _asn(check, "entry %d my_asn" % index, peer.get("my_asn"))
        if address is not None:
            normalised.append({"peer_address": str(address), "peer_asn": peer_asn, "my_asn": my_asn})
    return normalised


def check_load_balancer_ips(check, requested, service_merged):
    for address in requested:
        if not ipranges.spans_hold(service_merged, address.value):
            check.error("load_balancer_ip_outside_pool", "load_balancer_ips",
                        "%s is not among the external service IPs" % address)
    pool = ipranges.spans_size(service_merged)
    if not service_merged:
        check.warn("service_ips_empty", "external_service_ips",
                   "no external service IPs: LoadBalancer services will stay pending")
    elif pool < len(requested) + 1:
        check.warn("service_ips_too_few", "external_service_ips",
                   "%d external service IP(s) for %d fixed LoadBalancer IP(s); keep at least one more for "
                   "the services that take any address" % (pool, len(requested)))


def check_in_use(check, in_use, node_merged, service_merged, own_addresses):
    """Hosts the probe found answering on our ranges (warnings: the probe can be fooled)."""
    if not in_use:
        return
    own = set(address.value for address in own_addresses)
    for entry in in_use or []:
        raw = entry.get("address") if isinstance(entry, dict) else entry
        try:
            version, value = ipranges.address_value(raw)
        except ipranges.AddressError:
            continue
        if version == 4 and value in own:
            continue
        detail = ""
        if isinstance(entry, dict) and entry.get("mac"):
            detail = " (MAC %s)" % entry["mac"]
        text = ipranges.format_address(value, version)
        if version == 4 and ipranges.spans_hold(service_merged, value):
            check.warn("address_in_use", "external_service_ips", "%s answers on the network%s" % (text, detail))
        elif version == 4 and ipranges.spans_hold(node_merged, value):
            check.warn("address_in_use", "node_ips", "%s answers on the network%s" % (text, detail))


def check_cluster_domain(check, domain):
    if domain == DEFAULT_CLUSTER_DOMAIN:
        return  # a DNS domain of lower-case labels
    if not isinstance(domain, string_types) or len(domain) > 253:
        check.error("cluster_domain_invalid", "cluster_domain", "%r is not a DNS domain of at most 253 characters"
                    % (domain,))
        return
    labels = domain.rstrip(".").split(".") if domain else []
    if not labels or not all(_DOMAIN_LABEL.match(label) for label in labels):
        check.error("cluster_domain_invalid", "cluster_domain", "%r is not a DNS domain of lower-case labels" % (domain,))


# ---------------------------------------------------------------------------
# The whole check.
# ---------------------------------------------------------------------------

def _nth_host_or_none(network, index):
    if network is None or index >= network.size:
        return None
    return ipranges.ipv4_text(network.first + index)


_NO_NETWORK = (("", ()), [])


def _networks(pod_cidr, service_cidr, subnet, node_merged, service_merged, dns_servers, gateway, nodes):
    """Every network of ``_APART`` as ``(label, merged spans)``, a label as a format and its arguments."""
    dns = [(a.value, a.value) for a in dns_servers if a.version == 4]
    node_addresses = [(n["address"].value, n["address"].value) for n in nodes]
    return {
        "pod_cidr": (("the pod CIDR %s", (pod_cidr.cidr,)), [pod_cidr.span]) if pod_cidr else _NO_NETWORK,
        "service_cidr": (("the service CIDR %s", (service_cidr.cidr,)), [service_cidr.span]) if service_cidr else _NO_NETWORK,
        "subnet": (("the compute subnet %s", (subnet.cidr,)), [subnet.span]) if subnet else _NO_NETWORK,
        "node_ips": (("the node IPs", ()), node_merged),
        "external_service_ips": (("the external service IPs", ()), service_merged),
        "dns_servers": (("a DNS server", ()), ipranges.merge_spans(dns)),
        "gateway": (("the gateway", ()), [(gateway.value, gateway.value)] if gateway is not None else []),
        "nodes": (("a node's address", ()), ipranges.merge_spans(node_addresses)),
    }


def check_compute_network(settings):
    """Check the settings of one site. Returns ``(compute_network, findings)``."""
    s = dict(settings)
    check = _Check(s.get("field_prefix"))
    profile = s.get("profile") or "kubernetes"

    nodes = _parse_nodes(check, s.get("nodes"), s.get("interface"))
    # Each list merged once (_Ranges); every rule below reads these.
    node_ips = _ipv4_ranges(check, "node_ips", s.get("node_ips"))
    service_ips = _ipv4_ranges(check, "external_service_ips", s.get("external_service_ips"))
    node_ranges, node_merged = node_ips.spans, node_ips.merged
    service_ranges, service_merged = service_ips.spans, service_ips.merged
    reserved = _ipv4_ranges(check, "reserved", s.get("reserved"), require_network=False).spans
    subnet = _ipv4_network(check, "subnet", s.get("subnet"))
    gateway = _address(check, "gateway", s.get("gateway"))
    dns_servers = _addresses(check, "dns_servers", s.get("dns_servers"), ipv4_only=False)
    pod_cidr = _ipv4_network(check, "pod_cidr", s.get("pod_cidr") or DEFAULT_POD_CIDR)
    service_cidr = _ipv4_network(check, "service_cidr", s.get("service_cidr") or DEFAULT_SERVICE_CIDR)
    requested = _addresses(check, "load_balancer_ips", s.get("load_balancer_ips"))
    mtu = _int(check, "mtu_out_of_range", "mtu", s.get("mtu"))
    vlan_id = _int(check, "vlan_id_invalid", "vlan_id", s.get("vlan_id"))
    block_size = _bounded(check, "calico_block_size_invalid", "block_size", s.get("block_size"), BLOCK_SIZE_BOUNDS, 26)
    cluster_domain = s.get("cluster_domain") or DEFAULT_CLUSTER_DOMAIN
    cluster_domain = cluster_domain.strip() if isinstance(cluster_domain, string_types) else cluster_domain
    node_count = _bounded(check, "node_count_invalid", "node_count", s.get("node_count"), NODE_COUNT_BOUNDS,
                          max(len(nodes), 1))
    mtu_min, mtu_max = check_mtu_bounds(check, s.get("mtu_min"), s.get("mtu_max"))

    if subnet is None and nodes:
        subnet = nodes[0]["network"] if nodes[0]["network"].prefix < 32 else None
    if mtu is None:
        node_mtus = [node["mtu"] for node in nodes if node["mtu"] is not None]
        mtu = node_mtus[0] if node_mtus else None
    if gateway is None:
        node_gateways = [node["gateway"] for node in nodes if node["gateway"] is not None]
        gateway = node_gateways[0] if node_gateways else None

    check_nodes_agree(check, nodes, subnet)
    if s.get("node_ips") in (None, "", []) and not node_ranges:
        check.error("node_ips_too_few", "node_ips", "no node IPs given; a contiguous range such as "
                    "192.168.1.10-192.168.1.12 is required")
    else:
        check_node_ip_count(check, node_merged, node_count, profile)
    if not node_ips.apart:
        check_no_overlap_within(check, "node_ips", node_ranges)
    if not service_ips.apart:
        check_no_overlap_within(check, "external_service_ips", service_ranges)
    check_node_and_service_ranges_apart(check, node_merged, service_merged)
    if subnet is not None:
        check_inside_subnet(check, "node_ips_outside_subnet", "node_ips", node_ips, subnet)
        if not s.get("bgp_peers"):
            check_inside_subnet(check, "service_ips_outside_subnet", "external_service_ips", service_ips, subnet)
    check_reserved(check, "node_ips", node_ranges, subnet, gateway, reserved, node_merged)
    check_reserved(check, "external_service_ips", service_ranges, subnet, gateway, reserved, service_merged)
    check_service_ips_miss_nodes(check, service_ranges, nodes)
    check_gateway(check, gateway, subnet)
    check_dns_servers(check, dns_servers)
    check_mtu(check, mtu, mtu_min, mtu_max)
    check_vlan(check, vlan_id)
    peers = check_bgp_peers(check, s.get("bgp_peers"))
    check_load_balancer_ips(check, requested, service_merged)
    check_cluster_domain(check, cluster_domain)
    if service_cidr is not None:
        check_service_cidr_size(check, service_cidr)
    if pod_cidr is not None:
        check_pod_cidr_blocks(check, pod_cidr, block_size, node_count + PROFILE_EXTRA_NODE_IPS[profile])

    check_cidrs_apart(check, _networks(pod_cidr, service_cidr, subnet, node_merged, service_merged,
                                       dns_servers, gateway, nodes))
    check_in_use(check, s.get("in_use"), node_merged, service_merged, [n["address"] for n in nodes])

    # The pod MTU the calico role renders from this result: one rule for both (pod_mtu.py).
    encapsulation = s.get("encapsulation") or pod_mtu.DEFAULT_ENCAPSULATION
    wireguard = bool(s.get("wireguard"))
    compute_network = {
        "subnet": subnet.cidr if subnet is not None else None,
        "gateway": gateway.text if gateway is not None else None,
        "node_ips": ipranges.summarize_spans(node_merged, node_ips.texts),
        "external_service_ips": ipranges.summarize_spans(service_merged, service_ips.texts),
        "pod_cidr": pod_cidr.cidr if pod_cidr is not None else None,
        "service_cidr": service_cidr.cidr if service_cidr is not None else None,
        "kubernetes_service_ip": _nth_host_or_none(service_cidr, 1),
        "cluster_dns_ip": _nth_host_or_none(service_cidr, CLUSTER_DNS_INDEX),
        "cluster_domain": cluster_domain,
        "dns_servers": [a.text for a in dns_servers],
        "mtu": mtu,
        "encapsulation": encapsulation,
        "wireguard": wireguard,
        "pod_mtu": pod_mtu.pod_mtu(mtu, encapsulation, wireguard),
        "block_size": block_size,
        "profile": profile,
        "node_count": node_count,
        "vlan_id": vlan_id,
        "interface": s.get("interface"),
        "node_addresses": [{"name": n["name"], "address": n["address"].text} for n in nodes],
        "load_balancer_ips": [a.text for a in requested],
        "bgp_peers": peers,
    }
    return compute_network, check.findings


def check_outcome(params):
    """What one run of compute_network_check reports, from its validated options.

    Returns ``(result, warnings)``. ``result`` always holds ``changed`` (false) and
    ``findings``; a run the findings stop also holds ``failed`` and ``msg`` and leaves out
    the half-checked network, which would bury the problems; any other run holds
    ``compute_network``. ``warnings`` are the lines to show after the task.
    """
    compute_network, findings = check_compute_network(params)
    result = {"changed": False, "findings": findings}
    msg = failure_message(findings, params.get("strict", False), params.get("fail_on_error", True))
    if msg:
        result.update(failed=True, msg=msg)
    else:
        result["compute_network"] = compute_network
    return result, warning_lines(findings)
