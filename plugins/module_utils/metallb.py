# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MetalLB configuration: the webhook's rules, a few stricter ones, and both renderings.

``metallb_config(options)`` takes the module's options as a dict and returns
``{resources, orphaned, password_secrets, findings}``. It checks what MetalLB's admission
webhook would refuse (a pool without addresses, a bad CIDR or range, a range whose start is
after its end, overlapping entries in or across pools, duplicate pool names, bad object
names), and refuses what MetalLB silently accepts and gets wrong: a CIDR with host bits
(MetalLB widens it to the whole network), a range mixing IPv4 and IPv6 (MetalLB keeps it
and it yields no address). Ranges are compared as ranges, never expanded.

Passwords of BGP peers never enter this code's results: a peer refers to a
``kubernetes.io/basic-auth`` Secret by name and the caller creates that Secret itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six import string_types

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges, k8s_names, manifest_file, probe
from ansible_collections.edgeops.k8s_network.plugins.module_utils.bgp import ASN_RANGES_TEXT, usable_asn
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import errors_of, finding, warning

try:
    import netaddr
except ImportError:  # reported by the module through ipranges.HAS_NETADDR
    pass


PROTOCOLS = ("layer2", "bgp")
FORMATS = ("crd", "configmap")
DEFAULT_NAMESPACE = "metallb-system"
DEFAULT_POOL_NAME = "default"
# One advertisement covers every pool this collection renders; a fixed name keeps re-runs idempotent.
ADVERTISEMENT_NAME = "edgeops-k8s-network"
MANAGED_BY = {"app.kubernetes.io/managed-by": "edgeops.k8s_network"}
# The role creates Secrets under this prefix; keep both in step (roles/metallb/templates/bgp_peer_refs.j2).
SECRET_PREFIX = "metallb-bgp-"

POOL_KEYS = ("name", "addresses", "auto_assign", "avoid_buggy_ips")
PEER_KEYS = ("name", "peer_address", "peer_asn", "my_asn", "password", "password_secret", "hold_time")

# Same bounds as compute_network_check: 0, AS_TRANS and the reserved 65535-131071 block are refused.
# BGP carries the hold time in 16 bits; below 3 s (other than 0, "no keepalives") RFC 4271 refuses it.
HOLD_TIME_MAX = 65535

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?\Z")


class _Findings(object):
    def __init__(self):
        self.items = []

    def error(self, code, field, message):
        self.items.append(finding(code, field, message))

    def warn(self, code, field, message):
        self.items.append(warning(code, field, message))


# ---------------------------------------------------------------------------
# Names and small values
# ---------------------------------------------------------------------------

is_subdomain = k8s_names.is_subdomain
is_label = k8s_names.is_label


def secrets_notice(password_secrets):
    """Comment lines that head a manifest whose BGP peers refer to Secrets it does not hold.

    The password never passes through the renderer, so whoever applies the file must create the
    Secrets first; the file says which, and how, without any value.
    """
    if not password_secrets:
        return ""
    lines = ["# This file does NOT contain the Secrets its BGP peers refer to for their passwords.",
             "# Create each before applying it (type kubernetes.io/basic-auth, key password), e.g.:"]
    for secret in password_secrets:
        lines.append("#   kubectl -n %s create secret generic %s --type=kubernetes.io/basic-auth "
                     "--from-literal=password=... (peer %s)" % (secret["namespace"], secret["name"], secret["peer"]))
    return "\n".join(lines) + "\n"


def secrets_summary(password_secrets):
    """One sentence for the operator naming the Secrets the objects refer to and do not hold.

    The bundle's printed summary and the metallb role's bundle mode both print it, so the two
    cannot drift apart. Empty without such Secrets.
    """
    if not password_secrets:
        return ""
    names = ", ".join("%s/%s" % (secret["namespace"], secret["name"]) for secret in password_secrets)
    return ("The MetalLB objects refer to the BGP password Secret(s) %s, which they do NOT contain: create them"
            " (type kubernetes.io/basic-auth, key password) before applying them." % names)


def password_secret_name(peer_name):
    """The Secret a peer's password lives in, derived from the peer name."""
    return SECRET_PREFIX + peer_name


def peer_name_from_address(address):
    """A stable object name for a peer given only by address (``peer-10-0-0-1``)."""
    return "peer-" + re.sub("[.:]", "-", str(address)).strip("-")


def _bool(value, default):
    if value is None:
        return default
    return boolean(value, strict=True)


def parse_hold_time(value):
    """Seconds from an int or a Go duration in whole h/m/s (``90``, ``"90s"``, ``"1m30s"``)."""
    if isinstance(value, bool):
        raise ValueError("not a duration")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if not text or not match:
        raise ValueError("not a duration")
    hours, minutes, seconds = [int(part or 0) for part in match.groups()]
    return hours * 3600 + minutes * 60 + seconds


def format_duration(seconds):
    """Go's ``time.Duration.String()`` for whole seconds, the form MetalLB itself reports."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%dh%dm%ds" % (hours, minutes, secs)
    if minutes:
        return "%dm%ds" % (minutes, secs)
    return "%ds" % secs


def _asn(found, field, value):
    number = usable_asn(value)
    if number is None:
        found.error("bgp_asn_invalid", field, "%r is not a usable ASN (%s)" % (value, ASN_RANGES_TEXT))
    return number


# ---------------------------------------------------------------------------
# Pools
# ---------------------------------------------------------------------------

def parse_pool_entry(text):
    """``(rendered, range)`` for one address entry, in the form MetalLB writes: a CIDR or ``a-b``.

    A single address becomes a /32 (/128): MetalLB itself takes only CIDRs and ranges.
    Raises ``ipranges.AddressError`` (codes invalid_address, range_reversed, mixed_family,
    host_bits_set).
    """
    text = str(text).strip()
    if "-" in text:
        address_range = ipranges.parse_range(text)
        return ipranges.format_range(address_range), address_range
    if "/" in text:
        network = ipranges.parse_network(text, require_network=True)
        # From the bounding addresses, not integers: netaddr would take ::1 as an IPv4 integer.
        return str(network.cidr), netaddr.IPRange(network[0], network[-1])
    address = ipranges.parse_address(text)
    return "%s/%d" % (address, 32 if address.version == 4 else 128), netaddr.IPRange(address, address)


def normalise_pools(found, pools):
    """Checked pools: ``[{name, field, entries: [(rendered, range)], auto_assign, avoid_buggy_ips}]``."""
    result = []
    seen = {}
    for index, pool in enumerate(pools or []):
        field = "pools[%d]" % index
        if not isinstance(pool, dict):
            found.error("metallb_pool_invalid", field, "a pool must be a mapping with name and addresses")
            continue
        unknown = sorted(set(pool) - set(POOL_KEYS))
        if unknown:
            found.error("metallb_pool_invalid", field, "unknown key(s) %s; a pool takes %s"
                        % (", ".join(unknown), ", ".join(POOL_KEYS)))
        name = pool.get("name")
        if not is_subdomain(name):
            found.error("metallb_pool_name_invalid", field + ".name",
                        "%r is not a valid object name (lower-case letters, digits, '-' and '.', "
                        "starting and ending alphanumeric, at most 253 characters)" % (name,))
        elif name in seen:
            found.error("metallb_pool_name_duplicate", field + ".name",
                        "pool %r is already defined by pools[%d]" % (name, seen[name]))
        else:
            seen[name] = index
        flags = {}
        for key, default in (("auto_assign", True), ("avoid_buggy_ips", False)):
            try:
                flags[key] = _bool(pool.get(key), default)
            except TypeError:
                found.error("metallb_pool_invalid", "%s.%s" % (field, key), "%r is not a boolean" % (pool.get(key),))
                flags[key] = default
        entries = []
        texts = ipranges.split_list(pool.get("addresses"))
        if not texts:
            found.error("metallb_pool_empty", field + ".addresses",
                        "pool %r has no addresses; MetalLB refuses a pool without any" % (name,))
        for text in texts:
            try:
                entries.append(parse_pool_entry(text))
            except ipranges.AddressError as error:
                found.error(error.code, field + ".addresses", "pool %r: %s" % (name, error.message))
        result.append({"name": name, "field": field, "entries": entries,
                       "auto_assign": flags["auto_assign"], "avoid_buggy_ips": flags["avoid_buggy_ips"]})
    return result


def default_pools(compute_network):
    """One pool from the external service IPs of the normalised compute network."""
    service = (compute_network or {}).get("external_service_ips")
    if isinstance(service, dict):
        addresses = service.get("ranges") or service.get("cidrs") or []
    else:
        addresses = service or []
    return [{"name": DEFAULT_POOL_NAME, "addresses": addresses}]


def _describe(address_range):
    if address_range.first == address_range.last:
        return str(address_range[0])
    return ipranges.format_range(address_range)


def check_pool_overlaps(found, pools):
    """No two entries share an address, in one pool or across pools (touching at one address counts).

    A sweep over entries sorted by start: each is compared with the furthest-reaching one before it.
    """
    entries = []
    for pool in pools:
        for rendered, address_range in pool["entries"]:
            entries.append((address_range.version, address_range.first, address_range.last, rendered, pool, address_range))
    entries.sort(key=lambda item: item[:3])
    reach = None
    for item in entries:
        version, first, last, rendered, pool, address_range = item
        if reach is not None and reach[0] == version and first <= reach[2]:
            other = reach[5]
            shared = ipranges.intersection(address_range, other)
            found.error("ranges_overlap", pool["field"] + ".addresses",
                        "%s in pool %r overlaps %s in pool %r at %s"
                        % (rendered, pool["name"], reach[3], reach[4]["name"], _describe(shared)))
        if reach is None or reach[0] != version or last > reach[2]:
            reach = item


def _network_ranges(compute_network, key):
    value = compute_network.get(key)
    if isinstance(value, dict):
        value = value.get("ranges") or value.get("cidrs")
    if not value:
        return []
    ranges, _errors = ipranges.parse_ranges(value, require_network=False)
    return ranges


def check_pools_against_network(found, pools, compute_network, protocol):
    """Pools must stay clear of the node IPs, pod and service CIDRs and gateway; in layer 2, inside the subnet."""
    node_ranges = _network_ranges(compute_network, "node_ips")
    cidrs = [(key, _network_ranges(compute_network, key)) for key in ("pod_cidr", "service_cidr")]
    gateway = _network_ranges(compute_network, "gateway")
    subnet = _network_ranges(compute_network, "subnet")
    for pool in pools:
        field = pool["field"] + ".addresses"
        for rendered, address_range in pool["entries"]:
            for node_range in node_ranges:
                if ipranges.overlaps(address_range, node_range):
                    found.error("ranges_overlap", field, "%s in pool %r overlaps the node IPs at %s" % (
                        rendered, pool["name"], _describe(ipranges.intersection(address_range, node_range))))
            for key, ranges in cidrs:
                for network in ranges:
                    if ipranges.overlaps(address_range, network):
                        found.error("cidr_overlap", field, "%s in pool %r overlaps the %s %s" % (
                            rendered, pool["name"], key.replace("_", " ").replace("cidr", "CIDR"),
                            ipranges.range_to_cidrs([network])[0]))
            for address in gateway:
                if ipranges.overlaps(address_range, address):
                    found.error("reserved_address", field, "%s in pool %r includes the gateway %s"
                                % (rendered, pool["name"], _describe(address)))
            if protocol == "layer2" and subnet and address_range.version != subnet[0].version:
                found.error("service_ips_outside_subnet", field,
                            "%s in pool %r is IPv%d, the compute subnet %s is IPv%d: in layer2 mode nodes answer "
                            "only for addresses on their own segment" % (
                                rendered, pool["name"], address_range.version, ipranges.range_to_cidrs(subnet)[0],
                                subnet[0].version))
            elif protocol == "layer2" and subnet and not ipranges.contains(subnet[0], address_range):
                found.error("service_ips_outside_subnet", field,
                            "%s in pool %r is outside the compute subnet %s: in layer2 mode nodes answer ARP "
                            "only for addresses on their own segment" % (
                                rendered, pool["name"], ipranges.range_to_cidrs(subnet)[0]))


# ---------------------------------------------------------------------------
# Layer 2 and BGP options
# ---------------------------------------------------------------------------

def normalise_node_selectors(found, value):
    """A dict of labels (one selector) or a list of them (any matches) -> list of matchLabels dicts."""
    if value is None or value == {} or value == []:
        return []
    selectors = [value] if isinstance(value, dict) else value
    if not isinstance(selectors, list):
        found.error("metallb_node_selector_invalid", "node_selectors",
                    "expected a mapping of node labels or a list of such mappings, got %r" % (value,))
        return []
    result = []
    for index, labels in enumerate(selectors):
        field = "node_selectors[%d]" % index
        if not isinstance(labels, dict) or not labels:
            found.error("metallb_node_selector_invalid", field, "expected a non-empty mapping of node labels")
            continue
        good = True
        for key, label_value in labels.items():
            key_problem = k8s_names.label_key_problem(key)
            if key_problem:
                found.error("metallb_node_selector_invalid", field, key_problem)
                good = False
            elif not isinstance(label_value, string_types):
                found.error("metallb_node_selector_invalid", field,
                            "label %s: value %r must be a string (quote it)" % (key, label_value))
                good = False
            elif k8s_names.label_value_problem(label_value):
                found.error("metallb_node_selector_invalid", field,
                            "label %s: %s" % (key, k8s_names.label_value_problem(label_value)))
                good = False
        if good:
            result.append(dict(labels))
    return result


def normalise_interfaces(found, value):
    result = []
    for index, name in enumerate(ipranges.split_list(value)):
        problem = probe.interface_name_problem(name)
        if problem:
            found.error("metallb_interface_invalid", "l2_interfaces[%d]" % index, problem)
        else:
            result.append(name)
    return result


def normalise_peers(found, peers, field_name="bgp_peers"):
    """Checked peers: ``[{name, peer_address, peer_asn, my_asn, hold_time, password_secret}]``.

    ``password`` is read only for whether it is set; its value is never copied.
    """
    result = []
    seen = {}
    for index, peer in enumerate(peers or []):
        field = "%s[%d]" % (field_name, index)
        if not isinstance(peer, dict):
            found.error("metallb_peer_invalid", field, "a BGP peer must be a mapping")
            continue
        unknown = sorted(set(peer) - set(PEER_KEYS))
        if unknown:
            found.error("metallb_peer_invalid", field, "unknown key(s) %s; a peer takes %s"
                        % (", ".join(unknown), ", ".join(PEER_KEYS)))
        good = True
        address = None
        try:
            address = ipranges.parse_address(peer.get("peer_address") or "")
        except ipranges.AddressError as error:
            found.error(error.code, field + ".peer_address", error.message)
            good = False
        name = peer.get("name")
        if name is None and address is not None:
            name = peer_name_from_address(address)
        if name is None and address is None:
            good = False  # already reported: without an address there is nothing to name the peer after
        elif not is_subdomain(name):
            found.error("metallb_peer_name_invalid", field + ".name",
                        "%r is not a valid object name (DNS-1123 subdomain)" % (name,))
            good = False
        elif name in seen:
            found.error("metallb_peer_name_duplicate", field + ".name",
                        "peer %r is already defined by %s[%d]" % (name, field_name, seen[name]))
            good = False
        else:
            seen[name] = index
        peer_asn = _asn(found, field + ".peer_asn", peer.get("peer_asn"))
        my_asn = _asn(found, field + ".my_asn", peer.get("my_asn"))
        good = good and peer_asn is not None and my_asn is not None
        hold_time = None
        if peer.get("hold_time") not in (None, ""):
            try:
                hold_time = parse_hold_time(peer["hold_time"])
            except ValueError:
                hold_time = -1
            if hold_time < 0 or 0 < hold_time < 3 or hold_time > HOLD_TIME_MAX:
                found.error("metallb_hold_time_invalid", field + ".hold_time",
                            "%r: the hold time must be 0 or 3 s to %d s (e.g. 90, \"90s\", \"1m30s\")"
                            % (peer["hold_time"], HOLD_TIME_MAX))
                good = False
        secret = peer.get("password_secret")
        if secret is True or (secret in (None, "") and peer.get("password") not in (None, "")):
            secret = password_secret_name(name) if is_subdomain(name) else None
        elif secret is False or secret == "":
            secret = None
        if secret is not None and not is_subdomain(secret):
            found.error("metallb_password_secret_invalid", field + ".password_secret",
                        "%r is not a valid Secret name" % (secret,))
            good = False
        if good:
            result.append({"name": name, "peer_address": str(address), "peer_asn": peer_asn, "my_asn": my_asn,
                           "hold_time": hold_time, "password_secret": secret,
                           "password_given": peer.get("password") not in (None, "")})
    return result


# ---------------------------------------------------------------------------
# Orphan guard
# ---------------------------------------------------------------------------

def _confuses_old_firmware(address):
    # avoid_buggy_ips: MetalLB neither hands out nor keeps IPv4 addresses ending in .0 or .255.
    return address.version == 4 and int(address) & 0xFF in (0, 0xFF)


def pool_holds(pools, address):
    """True when some pool would keep ``address`` for the service holding it."""
    for pool in pools:
        if pool["avoid_buggy_ips"] and _confuses_old_firmware(address):
            continue
        if ipranges.contains_address([entry[1] for entry in pool["entries"]], address):
            return True
    return False


def find_orphaned(found, pools, assigned, allow):
    """Services whose LoadBalancer IP no new pool holds; an error unless ``allow``."""
    orphaned = []
    for index, service in enumerate(assigned or []):
        field = "assigned[%d]" % index
        if not isinstance(service, dict):
            found.error("metallb_assigned_invalid", field, "expected a mapping {namespace, name, ip}")
            continue
        try:
            address = ipranges.parse_address(service.get("ip") or "")
        except ipranges.AddressError as error:
            found.error(error.code, field + ".ip", error.message)
            continue
        if pool_holds(pools, address):
            continue
        entry = {"namespace": service.get("namespace"), "name": service.get("name"), "ip": str(address)}
        orphaned.append(entry)
        message = "service %s/%s holds %s, which no pool would hold any more" % (
            entry["namespace"], entry["name"], entry["ip"])
        if allow:
            found.warn("metallb_ips_orphaned", field, message + " (allowed by allow_orphaned_ips)")
        else:
            found.error("metallb_ips_orphaned", field, message + "; set allow_orphaned_ips to accept")
    return orphaned


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

def _metadata(name, namespace):
    return {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)}


def render_crd(pools, protocol, namespace, interfaces, node_selectors, peers):
    """Custom resources for MetalLB >= 0.13, in apply order: pools, peers, advertisement."""
    resources = []
    for pool in pools:
        resources.append({
            "apiVersion": "metallb.io/v1beta1",
            "kind": "IPAddressPool",
            "metadata": _metadata(pool["name"], namespace),
            "spec": {
                "addresses": [entry[0] for entry in pool["entries"]],
                "autoAssign": pool["auto_assign"],
                "avoidBuggyIPs": pool["avoid_buggy_ips"],
            },
        })
    selectors = [{"matchLabels": labels} for labels in node_selectors]
    pool_names = [pool["name"] for pool in pools]
    if protocol == "layer2":
        spec = {"ipAddressPools": pool_names}
        if interfaces:
            spec["interfaces"] = list(interfaces)
        if selectors:
            spec["nodeSelectors"] = selectors
        resources.append({"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement",
                          "metadata": _metadata(ADVERTISEMENT_NAME, namespace), "spec": spec})
        return resources
    for peer in peers:
        spec = {"peerAddress": peer["peer_address"], "peerASN": peer["peer_asn"], "myASN": peer["my_asn"]}
        if peer["hold_time"] is not None:
            spec["holdTime"] = format_duration(peer["hold_time"])
        if peer["password_secret"]:
            spec["passwordSecret"] = {"name": peer["password_secret"], "namespace": namespace}
        resources.append({"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer",
                          "metadata": _metadata(peer["name"], namespace), "spec": spec})
    spec = {"ipAddressPools": pool_names, "peers": [peer["name"] for peer in peers]}
    if selectors:
        spec["nodeSelectors"] = selectors
    resources.append({"apiVersion": "metallb.io/v1beta1", "kind": "BGPAdvertisement",
                      "metadata": _metadata(ADVERTISEMENT_NAME, namespace), "spec": spec})
    return resources


def render_configmap(pools, protocol, namespace, node_selectors, peers):
    """The ConfigMap ``config`` of MetalLB <= 0.12: its ``config`` key holds the whole configuration as YAML."""
    config = {}
    if protocol == "bgp":
        config["peers"] = []
        for peer in peers:
            item = {"peer-address": peer["peer_address"], "peer-asn": peer["peer_asn"], "my-asn": peer["my_asn"]}
            if peer["hold_time"] is not None:
                item["hold-time"] = format_duration(peer["hold_time"])
            if node_selectors:
                item["node-selectors"] = [{"match-labels": labels} for labels in node_selectors]
            config["peers"].append(item)
    config["address-pools"] = [{
        "name": pool["name"],
        "protocol": protocol,
        "addresses": [entry[0] for entry in pool["entries"]],
        "auto-assign": pool["auto_assign"],
        "avoid-buggy-ips": pool["avoid_buggy_ips"],
    } for pool in pools]
    text = manifest_file.yaml.safe_dump(config, default_flow_style=False, sort_keys=False)
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": _metadata("config", namespace),
             "data": {"config": text}}]


def basic_auth_secret(name, namespace, password):
    """The Secret a BGPPeer's ``passwordSecret`` refers to (MetalLB reads its ``password`` key).

    Not called by the module, which never holds a password; it fixes the shape callers create.
    """
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
            "metadata": _metadata(name, namespace), "stringData": {"password": password}}


# ---------------------------------------------------------------------------
# Everything together
# ---------------------------------------------------------------------------

def metallb_config(options):
    """Check and render. ``options`` uses the module's option names; returns a result dict.

    ``resources`` is empty when any finding is an error, so nothing half-checked is applied.
    """
    found = _Findings()
    protocol = options.get("protocol") or "layer2"
    output = options.get("format") or "crd"
    namespace = options.get("namespace")
    namespace = DEFAULT_NAMESPACE if namespace is None else namespace
    compute_network = options.get("compute_network") or {}
    if not isinstance(compute_network, dict):
        found.error("metallb_compute_network_invalid", "compute_network",
                    "expected the compute_network result of compute_network_check (a mapping)")
        compute_network = {}
    if protocol not in PROTOCOLS:
        found.error("metallb_protocol_invalid", "protocol", "%r is not one of %s" % (protocol, ", ".join(PROTOCOLS)))
    if output not in FORMATS:
        found.error("metallb_format_invalid", "format", "%r is not one of %s" % (output, ", ".join(FORMATS)))
    namespace_problem = k8s_names.label_problem(namespace, "namespace name")
    if namespace_problem:
        found.error("metallb_namespace_invalid", "namespace", namespace_problem)

    raw_pools = options.get("pools")
    if not raw_pools:
        if not compute_network:
            found.error("metallb_pools_missing", "pools",
                        "no pools given and no compute_network to take the external service IPs from")
            raw_pools = []
        else:
            raw_pools = default_pools(compute_network)
    pools = normalise_pools(found, raw_pools)
    check_pool_overlaps(found, pools)
    if compute_network:
        check_pools_against_network(found, pools, compute_network, protocol)

    interfaces = normalise_interfaces(found, options.get("l2_interfaces"))
    node_selectors = normalise_node_selectors(found, options.get("node_selectors"))
    if interfaces and protocol != "layer2":
        found.error("metallb_option_unsupported", "l2_interfaces",
                    "interfaces apply to layer2 announcements only; protocol is %s" % protocol)
    if output == "configmap" and protocol == "layer2" and (interfaces or node_selectors):
        found.error("metallb_option_unsupported", "l2_interfaces" if interfaces else "node_selectors",
                    "the legacy ConfigMap format (MetalLB <= 0.12) cannot limit layer2 announcements "
                    "to interfaces or nodes; use format crd")

    given_peers = options.get("bgp_peers")
    peers = []
    if given_peers:
        if protocol != "bgp":
            found.error("metallb_option_unsupported", "bgp_peers",
                        "bgp_peers given but protocol is %s; set protocol to bgp" % protocol)
        else:
            peers = normalise_peers(found, given_peers)
    elif compute_network.get("bgp_peers"):
        if protocol == "bgp":
            peers = normalise_peers(found, compute_network["bgp_peers"], "compute_network.bgp_peers")
        else:
            found.warn("metallb_bgp_peers_unused", "protocol",
                       "compute_network has BGP peers but protocol is layer2: the peers are not used, "
                       "and the external service IPs must be on the compute segment")
    if protocol == "bgp" and not given_peers and not compute_network.get("bgp_peers"):
        found.error("metallb_bgp_peers_missing", "bgp_peers",
                    "protocol bgp needs at least one BGP peer (bgp_peers, or compute_network.bgp_peers)")

    password_secrets = []
    for index, peer in enumerate(peers):
        if not peer["password_secret"]:
            continue
        if output == "configmap":
            found.error("metallb_password_unsupported", "bgp_peers[%d]" % index,
                        "the legacy ConfigMap format holds BGP passwords in clear text, which this collection "
                        "never writes; use format crd (MetalLB >= 0.13) with a Secret")
            continue
        password_secrets.append({"peer": peer["name"], "name": peer["password_secret"], "namespace": namespace,
                                 "type": "kubernetes.io/basic-auth", "key": "password"})
        if peer["password_given"]:
            found.warn("metallb_password_secret_required", "bgp_peers[%d].password" % index,
                       "peer %r refers to Secret %s/%s; this module never stores passwords, so create that "
                       "Secret (type kubernetes.io/basic-auth, key password) in a no_log task"
                       % (peer["name"], namespace, peer["password_secret"]))

    orphaned = find_orphaned(found, pools, options.get("assigned"), bool(options.get("allow_orphaned_ips")))

    resources = []
    if not any(item["severity"] == "error" for item in found.items):
        if output == "crd":
            resources = render_crd(pools, protocol, namespace, interfaces, node_selectors, peers)
        else:
            resources = render_configmap(pools, protocol, namespace, node_selectors, peers)
    return {"resources": resources, "orphaned": orphaned, "password_secrets": password_secrets,
            "findings": found.items}


def options_from_params(params):
    """Module options as metallb_config() takes them: suboptions Ansible filled with None are dropped."""
    options = dict(params)
    for key in ("pools", "bgp_peers"):
        if options.get(key):
            options[key] = [dict((k, v) for k, v in item.items() if v is not None) for item in options[key]]
    return options


def config_run(params, files, show_diff):
    """One run of the metallb_config module from its validated options: ``(result, findings)``.

    ``files`` writes ``dest`` (see manifest_file.write_text). The diff of ``dest`` comes back
    only with --diff: a diff returned on every run would carry the file's old text into every log.
    """
    rendered = metallb_config(options_from_params(params))
    result = dict(changed=False, resources=rendered["resources"], orphaned=rendered["orphaned"],
                  password_secrets=rendered["password_secrets"],
                  secrets_notice=secrets_notice(rendered["password_secrets"]),
                  secrets_summary=secrets_summary(rendered["password_secrets"]))
    dest = params.get("dest")
    if dest and not errors_of(rendered["findings"]):
        # type=path has already expanded ~ and variables
        text = result["secrets_notice"] + manifest_file.dump_resources(rendered["resources"])
        changed, diff = manifest_file.write_or_refuse(files, dest, text, rendered["findings"])
        result["changed"] = changed
        if diff and show_diff:
            result["diff"] = diff
        result["dest"] = os.path.abspath(dest)
    return result, rendered["findings"]
