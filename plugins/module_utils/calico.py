# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calico pool, MTU and node-address configuration (DESIGN.md 3.3), as plain functions.

``build(settings)`` takes the options of ``calico_config`` as a dict and returns the objects
to apply, the drift of immutable pool fields against the live cluster, a step-by-step
migration plan and every finding. The rules are libcalico's (``validateAndSetDefaults`` of
the IPPool client and the v3 validator), because the ``crd.projectcalico.org/v1`` CRD checks
neither strict masking, nor the block-size bounds, nor overlaps: a pool that passes the API
server there can still crash-loop calico-node.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible.module_utils.six import string_types

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges, k8s_names, manifest_file, releases
from ansible_collections.edgeops.k8s_network.plugins.module_utils import pod_mtu as pod_mtu_rule
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import ERROR, errors_of, finding, warning
from ansible_collections.edgeops.k8s_network.plugins.module_utils.release_version import major_minor

try:
    import netaddr
except ImportError:  # reported by the module through ipranges.HAS_NETADDR
    pass


DEFAULT_POD_CIDR = "172.27.0.0/16"
ENCAPSULATIONS = ("IPIP", "IPIPCrossSubnet", "VXLAN", "VXLANCrossSubnet", "None")
# (ipipMode, vxlanMode) of each Installation encapsulation, as the operator maps them.
ENCAPSULATION_MODES = {
    "IPIP": ("Always", "Never"),
    "IPIPCrossSubnet": ("CrossSubnet", "Never"),
    "VXLAN": ("Never", "Always"),
    "VXLANCrossSubnet": ("Never", "CrossSubnet"),
    "None": ("Never", "Never"),
}
POOL_MODES = ("Never", "Always", "CrossSubnet")
# The tunnels' header bytes and the pod MTU they leave: pod_mtu.py, shared with the check.
DEFAULT_ENCAPSULATION = pod_mtu_rule.DEFAULT_ENCAPSULATION
ENCAPSULATION_OVERHEAD = pod_mtu_rule.ENCAPSULATION_OVERHEAD
WIREGUARD_OVERHEAD = pod_mtu_rule.WIREGUARD_OVERHEAD
IPV6_EXTRA_OVERHEAD = pod_mtu_rule.IPV6_EXTRA_OVERHEAD
overhead = pod_mtu_rule.overhead
pod_mtu = pod_mtu_rule.pod_mtu
# Calico releases whose Installation and IPPool fields this renderer was checked against.
OLDEST_CALICO = (3, 29)
# Installation ipPools[].assignmentMode came with operator v1.38, which Calico v3.30 pins.
ASSIGNMENT_MODE_SINCE = (3, 30)
BLOCK_SIZE_BOUNDS = {4: (20, 32), 6: (116, 128)}
DEFAULT_BLOCK_SIZE = {4: 26, 6: 122}
LINK_LOCAL = {4: "169.254.0.0/16", 6: "fe80::/10"}
# 576 is the datagram size every IPv4 host must accept; 65535 the largest IPv4 packet.
MTU_BOUNDS = (576, 65535)

# Option key -> Installation key. At most one may be set per family.
AUTODETECTION_KEYS = (
    ("interface", "interface"),
    ("skip_interface", "skipInterface"),
    ("can_reach", "canReach"),
    ("first_found", "firstFound"),
    ("cidrs", "cidrs"),
    ("kubernetes", "kubernetes"),
)

OPERATOR_API = "operator.tigera.io/v1"
CALICO_API = "crd.projectcalico.org/v1"
CALICO_APIS = ("crd.projectcalico.org/v1", "projectcalico.org/v3")
OPERATOR_MANAGED_LABEL = "app.kubernetes.io/managed-by"


# ---------------------------------------------------------------------------
# Small helpers.
# ---------------------------------------------------------------------------

def default_pool_name(version):
    return "default-ipv%d-ippool" % version


def cidr_slug(network):
    """A DNS-label-safe spelling of a CIDR, to name a replacement pool after it."""
    return re.sub(r"-+", "-", re.sub(r"[^0-9a-z]", "-", str(network.cidr).lower())).strip("-")


def _as_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, string_types) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def encapsulation_modes(encapsulation):
    """``(ipipMode, vxlanMode)`` for an Installation encapsulation; None if unknown."""
    return ENCAPSULATION_MODES.get(encapsulation)


def tunnels(encapsulation, wireguard=False):
    """The enabled tunnels in words, for messages."""
    names = [encapsulation] if encapsulation and encapsulation != "None" else []
    if wireguard:
        names.append("WireGuard")
    return " and ".join(names) or "no tunnel"


def validate_version(value, field="calico_version"):
    """``(version, findings)``: the release as ``(major, minor)``, None when unset or refused."""
    if value in (None, ""):
        return None, []
    version = major_minor(value)
    if version is None:
        return None, [finding("calico_version_invalid", field,
                              "%r is not a Calico release such as v3.30.2" % (value,))]
    if version < OLDEST_CALICO:
        return None, [finding("calico_version_unsupported", field,
                              "Calico %s is older than v%d.%d, the oldest release whose Installation and IPPool "
                              "fields this collection renders" % (value, OLDEST_CALICO[0], OLDEST_CALICO[1]))]
    return version, []


# ---------------------------------------------------------------------------
# libcalico's pool rules.
# ---------------------------------------------------------------------------

def validate_pool(cidr, block_size=None, ipip_mode="Never", vxlan_mode="Never", disabled=False, fields=None):
    """Check one pool the way libcalico does. Returns ``(network, block_size, findings)``.

    ``network`` is None when the CIDR is unusable; ``block_size`` is the family default when
    not given. ``fields`` maps ``cidr``, ``block_size`` and ``encapsulation`` to the option
    names reported in findings.
    """
    names = {"cidr": "cidr", "block_size": "block_size", "encapsulation": "encapsulation"}
    names.update(fields or {})
    findings = []
    if cidr is None or not str(cidr).strip():
        findings.append(finding("invalid_address", names["cidr"], "a pool CIDR is required"))
        return None, block_size, findings
    try:
        network = ipranges.parse_network(cidr, require_network=True)
    except ipranges.AddressError as error:
        # libcalico refuses a CIDR that is not strictly masked; host_bits_set says so.
        findings.append(finding(error.code, names["cidr"], error.message))
        return None, block_size, findings
    version = network.version

    size = DEFAULT_BLOCK_SIZE[version] if block_size is None else _as_int(block_size)
    low, high = BLOCK_SIZE_BOUNDS[version]
    if size is None or not low <= size <= high:
        findings.append(finding("calico_block_size_invalid", names["block_size"],
                                "IPv%d block size must be between %d and %d, got %r" % (version, low, high, block_size)))
        size = None
    elif network.prefixlen > size and not disabled:
        findings.append(finding("calico_pool_smaller_than_block", names["cidr"],
                                "%s is smaller than one /%d block; the pool prefix must be at most %d"
                                % (network.cidr, size, size)))

    link_local = netaddr.IPNetwork(LINK_LOCAL[version])
    if ipranges.overlaps(network, link_local):
        findings.append(finding("calico_link_local_overlap", names["cidr"],
                                "%s overlaps the link-local range %s" % (network.cidr, link_local)))

    modes_ok = True
    for label, mode in (("ipipMode", ipip_mode), ("vxlanMode", vxlan_mode)):
        if (mode or "Never") not in POOL_MODES:
            findings.append(finding("calico_encapsulation_invalid", names["encapsulation"],
                                    "%s %r is not one of %s" % (label, mode, ", ".join(POOL_MODES))))
            modes_ok = False
    if modes_ok:
        ipip_on = (ipip_mode or "Never") != "Never"
        vxlan_on = (vxlan_mode or "Never") != "Never"
        if ipip_on and vxlan_on:
            findings.append(finding("calico_encapsulation_conflict", names["encapsulation"],
                                    "a pool cannot use IPIP (%s) and VXLAN (%s) at once" % (ipip_mode, vxlan_mode)))
        if ipip_on and version == 6:
            findings.append(finding("calico_ipip_ipv6", names["encapsulation"],
                                    "IPIP cannot carry the IPv6 pool %s; use VXLAN, VXLANCrossSubnet or None"
                                    % network.cidr))
    return network, size, findings


def validate_encapsulation(encapsulation, field="encapsulation"):
    if encapsulation not in ENCAPSULATIONS:
        return [finding("calico_encapsulation_invalid", field,
                        "%r is not one of %s" % (encapsulation, ", ".join(ENCAPSULATIONS)))]
    return []


# Interface names are at most 15 characters; a pattern for them needs no more than this.
MAX_INTERFACE_PATTERN = 256


def _is_address(value):
    try:
        ipranges.parse_address(value)
    except ipranges.AddressError:
        return False
    return True


def validate_autodetection(spec, field="node_address_autodetection"):
    """Normalise the node-address method. Returns ``(method, findings)``.

    ``method`` is ``(option_key, value)`` or None when no method is set. Unset keys (None,
    empty, or ``first_found: false``) do not count as a method.
    """
    findings = []
    if spec is None:
        return None, findings
    if not isinstance(spec, dict):
        return None, [finding("calico_autodetection_invalid", field, "expected a dict, got %r" % (spec,))]
    known = dict(AUTODETECTION_KEYS)
    chosen = []
    for key, value in spec.items():
        if key not in known:
            findings.append(finding("calico_autodetection_invalid", "%s.%s" % (field, key),
                                    "unknown method; use one of %s" % ", ".join(pair[0] for pair in AUTODETECTION_KEYS)))
            continue
        if value is None or value is False or value == "" or value == []:
            continue
        chosen.append(key)
    if len(chosen) > 1:
        findings.append(finding("calico_autodetection_conflict", field,
                                "at most one node address autodetection method may be set, got %s"
                                % ", ".join(sorted(chosen))))
        return None, findings
    if not chosen:
        return None, findings
    key = chosen[0]
    value = spec[key]
    if key == "cidrs":
        cidrs = []
        for item in ipranges.split_list(value):
            try:
                cidrs.append(str(ipranges.parse_network(item, require_network=False).cidr))
            except ipranges.AddressError as error:
                findings.append(finding("invalid_address", "%s.cidrs" % field, error.message))
        value = cidrs
    elif key == "first_found":
        if value is not True and str(value).lower() not in ("true", "yes", "1"):
            findings.append(finding("calico_autodetection_invalid", "%s.first_found" % field,
                                    "first_found takes true or false, got %r" % (value,)))
        value = True
    elif key == "kubernetes":
        if value not in ("NodeInternalIP", True):
            findings.append(finding("calico_autodetection_invalid", "%s.kubernetes" % field,
                                    "the only Kubernetes method is NodeInternalIP, got %r" % (value,)))
        value = "NodeInternalIP"
    else:
        value = str(value)
        problem = k8s_names.control_problem(value)
        if problem:
            # It lands in calico-node's environment (IP_AUTODETECTION_METHOD) as one line.
            findings.append(finding("calico_autodetection_invalid", "%s.%s" % (field, key), problem))
        elif key in ("interface", "skip_interface"):
            if len(value) > MAX_INTERFACE_PATTERN:
                findings.append(finding("calico_autodetection_invalid", "%s.%s" % (field, key),
                                        "a pattern of %d characters; interface patterns take at most %d"
                                        % (len(value), MAX_INTERFACE_PATTERN)))
            else:
                try:
                    re.compile(value)
                except (re.error, RecursionError, OverflowError) as error:
                    findings.append(finding("calico_autodetection_invalid", "%s.%s" % (field, key),
                                            "%r is not a regular expression: %s" % (value, error)))
        elif key == "can_reach" and k8s_names.dns_name_problem(value) and not _is_address(value):
            findings.append(finding("calico_autodetection_invalid", "%s.can_reach" % field,
                                    "%r is neither an IP address nor a host name" % (value,)))
    if any(f["severity"] == ERROR for f in findings):
        return None, findings
    return (key, value), findings


def autodetection_installation(method):
    """The Installation form: ``{"cidrs": [...]}``, ``{"canReach": "..."}``..."""
    if method is None:
        return None
    key, value = method
    return {dict(AUTODETECTION_KEYS)[key]: value}


def autodetection_env(method):
    """The calico-node ``IP_AUTODETECTION_METHOD`` value for manifest installs."""
    if method is None:
        return None
    key, value = method
    if key == "cidrs":
        return "cidr=%s" % ",".join(value)
    if key == "first_found":
        return "first-found"
    if key == "kubernetes":
        return "kubernetes-internal-ip"
    return "%s=%s" % (key.replace("_", "-"), value)


def validate_mtu(mtu, port_mtu, encapsulation, field="mtu", wireguard=False, version=4):
    findings = []
    low, high = MTU_BOUNDS
    if not low <= mtu <= high:
        findings.append(finding("calico_mtu_invalid", field, "pod MTU %d is outside %d-%d" % (mtu, low, high)))
    elif port_mtu is not None and encapsulation in ENCAPSULATION_OVERHEAD:
        largest = pod_mtu(port_mtu, encapsulation, wireguard, version)
        if mtu > largest:
            findings.append(warning("calico_mtu_too_large", field,
                                    "pod MTU %d exceeds the port MTU %d minus %d bytes of %s headers (%d): "
                                    "tunnelled packets will be fragmented or dropped"
                                    % (mtu, port_mtu, overhead(encapsulation, wireguard, version),
                                       tunnels(encapsulation, wireguard), largest)))
    return findings


# ---------------------------------------------------------------------------
# Renderers.
# ---------------------------------------------------------------------------

def render_operator_pool(pool, calico_version=None):
    """One ``spec.calicoNetwork.ipPools`` entry of an Installation.

    The operator writes its defaults back into the Installation, and ``ipPools`` is an atomic
    list: spelling the defaults out keeps a re-applied list equal to the live one, so a
    server-side apply neither flaps nor conflicts with the operator's field manager.
    ``assignmentMode`` is left out for a Calico older than v3.30 (``calico_version`` as
    ``(major, minor)``; None means the newest): its Installation CRD has no such field, and a
    strict server-side apply refuses the whole object over one unknown field.
    """
    entry = {
        "name": pool["name"],
        "cidr": pool["cidr"],
        "blockSize": pool["block_size"],
        "encapsulation": pool["encapsulation"],
        "natOutgoing": "Enabled" if pool["nat_outgoing"] else "Disabled",
        "nodeSelector": pool.get("node_selector") or "all()",
        "allowedUses": ["Workload", "Tunnel"],
        "assignmentMode": "Automatic",
        "disableBGPExport": False,
        "disableNewAllocations": bool(pool.get("disabled")),
    }
    if calico_version is not None and calico_version < ASSIGNMENT_MODE_SINCE:
        del entry["assignmentMode"]
    return entry


def render_installation(ip_pools, mtu=None, autodetection=None, version=4):
    """The Installation ``default`` with the given ``ipPools`` entries (already rendered)."""
    network = {"ipPools": [copy.deepcopy(p) for p in ip_pools]}
    if mtu is not None:
        network["mtu"] = mtu
    method = autodetection_installation(autodetection)
    if method is not None:
        network["nodeAddressAutodetectionV%d" % version] = method
    return {
        "apiVersion": OPERATOR_API,
        "kind": "Installation",
        "metadata": {"name": "default"},
        "spec": {"calicoNetwork": network},
    }


def render_ip_pool(pool):
    """A ``crd.projectcalico.org/v1`` IPPool from a pool description."""
    ipip_mode, vxlan_mode = ENCAPSULATION_MODES[pool["encapsulation"]]
    spec = {
        "cidr": pool["cidr"],
        "blockSize": pool["block_size"],
        "ipipMode": ipip_mode,
        "vxlanMode": vxlan_mode,
        "natOutgoing": bool(pool["nat_outgoing"]),
        "nodeSelector": pool.get("node_selector") or "all()",
    }
    if pool.get("disabled"):
        spec["disabled"] = True
    return {"apiVersion": CALICO_API, "kind": "IPPool", "metadata": {"name": pool["name"]}, "spec": spec}


def felix_mtu_field(encapsulation, version=4):
    """The FelixConfiguration field that carries the tunnel MTU, or None without a tunnel."""
    if encapsulation.startswith("IPIP"):
        return "ipipMTU"
    if encapsulation.startswith("VXLAN"):
        return "vxlanMTUV6" if version == 6 else "vxlanMTU"
    return None


def render_felix_configuration(mtu, encapsulation, version=4, wireguard=False):
    """FelixConfiguration ``default`` with the tunnel MTUs and WireGuard; None when there is nothing to set."""
    spec = {}
    field = felix_mtu_field(encapsulation, version)
    if mtu is not None and field is not None:
        spec[field] = mtu
    if wireguard:
        suffix = "V6" if version == 6 else ""
        spec["wireguardEnabled" + suffix] = True
        if mtu is not None:
            spec["wireguardMTU" + suffix] = mtu
    if not spec:
        return None
    return {"apiVersion": CALICO_API, "kind": "FelixConfiguration", "metadata": {"name": "default"}, "spec": spec}


# ---------------------------------------------------------------------------
# The live cluster.
# ---------------------------------------------------------------------------

def _flatten_live(live):
    """Objects from a list of objects, ``*List`` objects or registered ``k8s_info`` results."""
    if live is None:
        return
    pending = list(live) if isinstance(live, (list, tuple)) else [live]
    for item in pending:
        if isinstance(item, dict) and "resources" in item and "kind" not in item:
            yield from _flatten_live(item["resources"])
        elif isinstance(item, dict) and str(item.get("kind", "")).endswith("List") and "items" in item:
            yield from _flatten_live(item["items"])
        else:
            yield item


def _mapping(value):
    """A live object's part as a dict: what the API server always gives, a hostile caller may not."""
    return value if isinstance(value, dict) else {}


def _live_pool(name, spec, source, labels=None, api_version=None):
    """A live pool as ``(record, problem)``; record None when the pool cannot be read."""
    spec = _mapping(spec)
    if name is not None and k8s_names.subdomain_problem(name):
        return None, "pool name %r is not an object name" % (name,)
    cidr = spec.get("cidr")
    try:
        network = ipranges.parse_network(cidr, require_network=False)
    except (ipranges.AddressError, TypeError):
        return None, "pool %s has no usable cidr (%r)" % (name, cidr)
    block_size = _as_int(spec.get("blockSize"))
    uses = spec.get("allowedUses")
    return {
        "name": name or str(network.cidr),
        "cidr": str(network.cidr),
        "network": netaddr.IPNetwork(str(network.cidr)),
        "block_size": block_size if block_size else DEFAULT_BLOCK_SIZE[network.version],
        "disabled": bool(spec.get("disabled") or spec.get("disableNewAllocations")),
        "workload": not uses or "Workload" in uses,
        "operator_managed": _mapping(labels).get(OPERATOR_MANAGED_LABEL) == "tigera-operator",
        "source": source,
        "api_version": api_version,
        "spec": spec,
    }, None


def read_live(live, field="live"):
    """``(installation, installation_pools, ip_pools, findings)`` from the ``live`` option.

    Only the Installation named ``default`` counts: it is the one the operator reconciles.
    """
    findings = []
    installation = None
    installation_pools = []
    ip_pools = []
    for item in _flatten_live(live):
        if not isinstance(item, dict):
            findings.append(warning("calico_live_invalid", field, "ignored %r: not a Kubernetes object" % (item,)))
            continue
        kind = item.get("kind")
        metadata = _mapping(item.get("metadata"))
        name = metadata.get("name")
        if name is not None and not isinstance(name, string_types):
            findings.append(warning("calico_live_invalid", field, "ignored %s: its name is not a string" % (kind,)))
            continue
        if kind == "Installation" and str(item.get("apiVersion", OPERATOR_API)).startswith("operator.tigera.io/"):
            if name not in (None, "default"):
                continue
            installation = item
            network = _mapping(_mapping(item.get("spec")).get("calicoNetwork"))
            entries = network.get("ipPools") or []
            if not isinstance(entries, list):
                findings.append(warning("calico_live_invalid", field, "Installation: ipPools is not a list"))
                entries = []
            for entry in entries:
                entry_name = entry.get("name") if isinstance(entry, dict) else None
                pool, problem = _live_pool(entry_name, entry, "Installation")
                if pool is None:
                    findings.append(warning("calico_live_invalid", field, "Installation: %s" % problem))
                else:
                    pool["raw"] = copy.deepcopy(entry)
                    installation_pools.append(pool)
        elif kind == "IPPool" and item.get("apiVersion", CALICO_API) in CALICO_APIS:
            pool, problem = _live_pool(name, item.get("spec"), "IPPool", metadata.get("labels"),
                                       item.get("apiVersion", CALICO_API))
            if pool is None:
                findings.append(warning("calico_live_invalid", field, problem))
            else:
                ip_pools.append(pool)
        else:
            findings.append(warning("calico_live_invalid", field,
                                    "ignored %s %s: neither an IPPool nor an Installation" % (kind, name)))
    return installation, installation_pools, ip_pools, findings


# ---------------------------------------------------------------------------
# Drift and the migration plan.
# ---------------------------------------------------------------------------

def _ref(pool):
    return {"apiVersion": pool.get("api_version") or CALICO_API, "kind": "IPPool", "name": pool["name"]}


def _disabled_ip_pool(pool):
    """The live IPPool with ``disabled: true``, every other field kept.

    The whole live spec goes in so that a server-side apply by the field manager that
    created the pool does not drop the fields it leaves out (NAT, encapsulation) mid-drain.
    """
    spec = dict(pool["spec"])
    spec["disabled"] = True
    return {"apiVersion": pool.get("api_version") or CALICO_API, "kind": "IPPool",
            "metadata": {"name": pool["name"]}, "spec": spec}


class _Plan(object):
    """Builds the ordered steps, skipping what the live state shows as already done."""

    def __init__(self, operator, installation_pools, render_installation_with, calico_version=None):
        self.operator = operator
        self.calico_version = calico_version
        self.steps = []
        self.current = [copy.deepcopy(p) for p in installation_pools]
        self.render = render_installation_with

    def _add(self, action, description, **extra):
        step = {"step": len(self.steps) + 1, "action": action, "description": description}
        step.update(extra)
        self.steps.append(step)

    def create(self, pool, purpose):
        description = "create the %s pool %s (%s, block /%d)" % (purpose, pool["name"], pool["cidr"], pool["block_size"])
        if self.operator:
            self.current.append(render_operator_pool(pool, self.calico_version))
            self._add("create_pool", description + " by adding it to the Installation",
                      pool=pool["name"], object=self.render(self.current))
        else:
            self._add("create_pool", description, pool=pool["name"], object=render_ip_pool(pool))

    def disable(self, pools):
        if not pools:
            return
        if self.operator:
            cidrs = set(p["cidr"] for p in pools)
            for entry in self.current:
                if _entry_cidr(entry) in cidrs:
                    entry["disableNewAllocations"] = True
            self._add("disable_pool", "stop new allocations from %s (disableNewAllocations in the Installation); "
                      "running pods keep their addresses" % _names(pools),
                      pool=_names(pools), object=self.render(self.current))
        else:
            for pool in pools:
                if "spec" in pool:
                    obj = _disabled_ip_pool(pool)
                else:
                    obj = render_ip_pool(dict(pool, disabled=True))
                self._add("disable_pool", "disable the pool %s (%s): new pods get addresses from the other pool, "
                          "running pods keep theirs" % (pool["name"], pool["cidr"]), pool=pool["name"], object=obj)

    def recycle(self, pools):
        self._add("recycle_pods", "restart every workload with pods in %s (e.g. kubectl rollout restart of its "
                  "Deployments, DaemonSets and StatefulSets; delete bare pods) until no pod IP lies in them"
                  % ", ".join(p["cidr"] for p in pools), cidrs=[p["cidr"] for p in pools])

    def delete(self, pools, final=None):
        if self.operator:
            cidrs = set(p["cidr"] for p in pools)
            self.current = [e for e in self.current if _entry_cidr(e) not in cidrs]
            self._add("delete_pool", "remove %s from the Installation; the operator deletes the pool" % _names(pools),
                      pool=_names(pools), object=final if final is not None else self.render(self.current))
        else:
            for pool in pools:
                self._add("delete_pool", "delete the emptied pool %s (%s)" % (pool["name"], pool["cidr"]),
                          pool=pool["name"], delete=_ref(pool))


def _entry_cidr(entry):
    try:
        return str(ipranges.parse_network(entry.get("cidr"), require_network=False).cidr)
    except (ipranges.AddressError, TypeError, AttributeError):
        return None


def _names(pools):
    return ", ".join(p["name"] for p in pools)


def migration_plan(operator, desired, replaced, temporary, live_pools, installation_pools, render_with, final,
                   calico_version=None):
    """Ordered steps from the live pools to ``desired``.

    When the new CIDR overlaps a pool it replaces (a block-size change keeps the CIDR),
    both cannot exist at once, so pods move through a ``temporary`` pool first, as Calico's
    own migration guide does.
    """
    plan = _Plan(operator, installation_pools, render_with, calico_version)
    live_cidrs = set(p["cidr"] for p in live_pools)
    blocking = [p for p in replaced if ipranges.overlaps(p["network"], desired["network"])
                and (temporary is None or p["cidr"] != temporary["cidr"])]
    if blocking:
        old = [p for p in replaced if temporary is None or p["cidr"] != temporary["cidr"]]
        if temporary["cidr"] not in live_cidrs:
            plan.create(temporary, "temporary")
        plan.disable([p for p in old if not p["disabled"]])
        plan.recycle(old)
        plan.delete(old)
        plan.create(desired, "new")
        temp_live = [p for p in live_pools if p["cidr"] == temporary["cidr"]]
        temp_pool = temp_live[0] if temp_live else dict(temporary, disabled=False)
        plan.disable([temp_pool] if not temp_pool.get("disabled") else [])
        plan.recycle([temp_pool])
        plan.delete([temp_pool], final=final)
    else:
        if desired["cidr"] not in live_cidrs:
            plan.create(desired, "new")
        plan.disable([p for p in replaced if not p["disabled"]])
        plan.recycle(replaced)
        plan.delete(replaced, final=final)
    return plan.steps


def analyse_live(desired, live_info, operator, temporary):
    """Match the desired pool with the live ones. Returns a dict of what the plan needs.

    A live pool of the same CIDR is the desired pool, whatever its name (the operator, too,
    keys pools by CIDR), so a pool renamed by an earlier migration keeps its name.
    """
    installation, installation_pools, ip_pools = live_info[:3]
    use_installation = operator and installation is not None
    if use_installation:
        candidates = installation_pools
        # The operator mirrors its Installation pools as IPPools; only the others are separate.
        others = [p for p in ip_pools if not p["operator_managed"]]
    else:
        candidates = ip_pools
        others = []
    version = desired["network"].version
    managed = [p for p in candidates if p["network"].version == version and p["workload"]]
    match = None
    for pool in managed:
        if pool["cidr"] == desired["cidr"]:
            match = pool
            break
    temporary_cidr = temporary["cidr"] if temporary is not None else None
    if use_installation:
        replaced = [p for p in managed if p is not match]
    else:
        replaced = [p for p in managed
                    if p is not match and (p["name"] == desired["name"] or p["cidr"] == temporary_cidr)]
    if match is not None and match["block_size"] != desired["block_size"]:
        replaced.insert(0, match)
    extra = [p for p in managed if p is not match and p not in replaced]
    preserved = [p for p in candidates if p not in managed] if use_installation else []
    unrelated = [p for p in candidates if p not in managed and not use_installation] + others
    return {
        "use_installation": use_installation,
        "match": match,
        "replaced": replaced,
        "extra": extra,
        "preserved": preserved,
        "unrelated": unrelated,
        "candidates": candidates,
    }


def drift_of(desired, replaced):
    drift = []
    for pool in replaced:
        if pool["cidr"] != desired["cidr"]:
            drift.append({"field": "pod_cidr", "pool": pool["name"], "live": pool["cidr"], "desired": desired["cidr"]})
        if pool["block_size"] != desired["block_size"]:
            drift.append({"field": "block_size", "pool": pool["name"], "live": pool["block_size"],
                          "desired": desired["block_size"]})
    return drift


# ---------------------------------------------------------------------------
# The whole renderer.
# ---------------------------------------------------------------------------

def _compute_network_mtu(compute_network, encapsulation, wireguard=False, version=4):
    """Pod MTU from the compute network: its port MTU when known, for these tunnels."""
    port = _as_int(compute_network.get("mtu"))
    if port is not None:
        return pod_mtu(port, encapsulation, wireguard, version)
    return _as_int(compute_network.get("pod_mtu"))


def _check_against_compute_network(network, compute_network):
    findings = []
    for key, label in (("subnet", "the compute subnet"), ("service_cidr", "the service CIDR")):
        value = compute_network.get(key)
        if not value:
            continue
        try:
            other = ipranges.parse_network(value, require_network=False)
        except ipranges.AddressError:
            continue
        if ipranges.overlaps(network, other):
            findings.append(finding("cidr_overlap", "pod_cidr", "the pod CIDR %s overlaps %s %s"
                                    % (network.cidr, label, other.cidr)))
    return findings


def default_pool_env(pool):
    """calico-node's environment for its own default pool: ours exactly, or none at all.

    calico-node creates a default pool at start when none exists, from CALICO_IPV4POOL_* (stock
    calico.yaml leaves the CIDR to its built-in 192.168.0.0/16 and sets IPIP Always). Before the
    site's IPPool lands, that pool would hand out addresses from the wrong CIDR. When the site's
    pool is the IPv4 default pool, calico-node creates exactly it; otherwise it creates none.
    """
    if not pool:
        return {}
    network = ipranges.parse_network(pool["cidr"], require_network=False)
    if network.version != 4 or pool["name"] != default_pool_name(4):
        return {"NO_DEFAULT_POOLS": "true"}
    ipip, vxlan = ENCAPSULATION_MODES[pool["encapsulation"]]
    return {
        "CALICO_IPV4POOL_CIDR": pool["cidr"],
        "CALICO_IPV4POOL_BLOCK_SIZE": str(pool["block_size"]),
        "CALICO_IPV4POOL_IPIP": ipip,
        "CALICO_IPV4POOL_VXLAN": vxlan,
        "CALICO_IPV4POOL_NAT_OUTGOING": "true" if pool["nat_outgoing"] else "false",
    }


def _set_env(container, values):
    """Set ``values`` in a container's env, in place where a name exists, else appended."""
    env = list(container.get("env") or [])
    names = [item.get("name") for item in env]
    for name, value in values.items():
        item = {"name": name, "value": value}
        if name in names:
            env[names.index(name)] = item
        else:
            env.append(item)
            names.append(name)
    container["env"] = env


def customize_release_manifest(objects, mtu=None, autodetection_method=None, pool=None):
    """calico.yaml's own objects with the site's pod MTU, node address method and default pool.

    In a manifest install calico-node takes its MTUs from ``veth_mtu`` in the calico-config
    ConfigMap through FELIX_* environment variables, and environment beats FelixConfiguration,
    so the MTU has to be set here as well. Returns new objects; the input is not changed.
    """
    env = dict(default_pool_env(pool))
    if autodetection_method:
        env["IP_AUTODETECTION_METHOD"] = autodetection_method
    result = []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        obj = copy.deepcopy(obj)
        kind = obj.get("kind")
        name = (obj.get("metadata") or {}).get("name")
        if kind == "ConfigMap" and name == "calico-config" and mtu is not None:
            obj.setdefault("data", {})["veth_mtu"] = str(mtu)
        if kind == "DaemonSet" and name == "calico-node" and env:
            containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
            for container in containers:
                if container.get("name") == "calico-node":
                    _set_env(container, env)
        result.append(obj)
    return result


def build(settings):
    """Render Calico's configuration for one cluster. See the module documentation for keys."""
    s = dict(settings)
    compute_network = s.get("compute_network") or {}
    findings = []
    result = {"resources": [], "drift": [], "migration_plan": [], "findings": findings,
              "pool": None, "mtu": None, "ip_autodetection_method": None}

    operator = (s.get("install_mode") or "operator") == "operator"
    encapsulation = s.get("encapsulation")
    if encapsulation is None:
        inherited = compute_network.get("encapsulation")
        encapsulation = inherited if inherited in ENCAPSULATIONS else DEFAULT_ENCAPSULATION
    findings.extend(validate_encapsulation(encapsulation))
    modes = encapsulation_modes(encapsulation) or ("Never", "Never")

    cidr = s.get("pod_cidr") or compute_network.get("pod_cidr") or DEFAULT_POD_CIDR
    block_size = s.get("block_size")
    if block_size is None:
        block_size = compute_network.get("block_size")
    network, block_size, pool_findings = validate_pool(
        cidr, block_size, modes[0], modes[1],
        fields={"cidr": "pod_cidr", "block_size": "block_size", "encapsulation": "encapsulation"})
    findings.extend(pool_findings)
    family = network.version if network is not None else 4

    wireguard = s.get("wireguard")
    if wireguard is None:
        wireguard = compute_network.get("wireguard") is True
    calico_version, version_findings = validate_version(s.get("calico_version"))
    findings.extend(version_findings)

    mtu = _as_int(s.get("mtu"))
    port_mtu = _as_int(compute_network.get("mtu"))
    if s.get("mtu") is not None and mtu is None:
        findings.append(finding("calico_mtu_invalid", "mtu", "%r is not a number" % (s.get("mtu"),)))
    elif mtu is not None:
        findings.extend(validate_mtu(mtu, port_mtu, encapsulation, wireguard=wireguard, version=family))
    elif compute_network:
        mtu = _compute_network_mtu(compute_network, encapsulation, wireguard, family)

    autodetection = s.get("node_address_autodetection")
    if isinstance(autodetection, dict):
        autodetection = dict((k, v) for k, v in autodetection.items() if v is not None)
    if not autodetection and compute_network.get("subnet"):
        # Without this, calico-node takes the first address it finds, which on a device with
        # a management and a compute port is often the wrong one for CrossSubnet routing.
        autodetection = {"cidrs": [compute_network["subnet"]]}
    method, auto_findings = validate_autodetection(autodetection or None)
    findings.extend(auto_findings)

    name_problem = None
    if s.get("pool_name") is not None:
        name_problem = k8s_names.subdomain_problem(s["pool_name"], "pool name")
        if name_problem:
            findings.append(finding("calico_pool_name_invalid", "pool_name", name_problem))

    live_info = read_live(s.get("live"))
    findings.extend(live_info[3])
    if network is None or block_size is None or encapsulation not in ENCAPSULATIONS or version_findings or name_problem:
        return result
    findings.extend(_check_against_compute_network(network, compute_network))

    version = network.version
    desired = {
        "name": s.get("pool_name") or default_pool_name(version),
        "cidr": str(network.cidr),
        "network": network,
        "block_size": block_size,
        "encapsulation": encapsulation,
        "nat_outgoing": True if s.get("nat_outgoing") is None else bool(s.get("nat_outgoing")),
        "node_selector": "all()",
    }

    temporary = None
    if s.get("migration_temporary_cidr"):
        temp_network, temp_block, temp_findings = validate_pool(
            s["migration_temporary_cidr"], block_size, modes[0], modes[1],
            fields={"cidr": "migration_temporary_cidr", "block_size": "block_size", "encapsulation": "encapsulation"})
        findings.extend(temp_findings)
        if temp_network is not None and temp_network.version != version:
            findings.append(finding("calico_migration_temporary_cidr_invalid", "migration_temporary_cidr",
                                    "%s is not of the pod CIDR's family" % temp_network.cidr))
        elif temp_network is not None and ipranges.overlaps(temp_network, network):
            findings.append(finding("calico_pool_overlap", "migration_temporary_cidr",
                                    "the temporary pool %s overlaps the pod CIDR %s" % (temp_network.cidr, network.cidr)))
        elif temp_network is not None and temp_block is not None:
            temporary = dict(desired, name="%s-migration" % desired["name"], cidr=str(temp_network.cidr),
                             network=temp_network)

    installation = live_info[0]
    if not operator and installation is not None:
        findings.append(warning("calico_install_mode_mismatch", "install_mode",
                                "install_mode is manifest but the cluster has an operator Installation; "
                                "the operator will overwrite IPPools it manages"))
    state = analyse_live(desired, live_info, operator, temporary)
    match, replaced = state["match"], state["replaced"]

    # Naming: keep the live name of the same CIDR; otherwise the new pool must not take the
    # name of a pool that still exists while both are in use.
    names_in_use = set(p["name"] for p in state["candidates"] if p is not match)
    overlapping_change = any(ipranges.overlaps(p["network"], network) for p in replaced
                             if temporary is None or p["cidr"] != temporary["cidr"])
    if match is not None:
        desired["name"] = match["name"]
    elif desired["name"] in names_in_use and not overlapping_change:
        desired["name"] = "%s-%s" % (desired["name"], cidr_slug(network))

    for pool in state["unrelated"]:
        if ipranges.overlaps(pool["network"], network):
            findings.append(finding("calico_pool_overlap", "pod_cidr", "the pod CIDR %s overlaps the live pool %s (%s)"
                                    % (desired["cidr"], pool["name"], pool["cidr"])))
    if temporary is not None:
        # A live pool of exactly the temporary CIDR is the temporary pool of an earlier run.
        for pool in state["candidates"] + state["unrelated"]:
            if pool["cidr"] != temporary["cidr"] and ipranges.overlaps(pool["network"], temporary["network"]):
                findings.append(finding("calico_pool_overlap", "migration_temporary_cidr",
                                        "the temporary pool %s overlaps the live pool %s (%s)"
                                        % (temporary["cidr"], pool["name"], pool["cidr"])))
    for pool in state["extra"]:
        if not pool["disabled"] and not ipranges.overlaps(pool["network"], network):
            findings.append(warning("calico_extra_pool", "live",
                                    "the live pool %s (%s) stays enabled beside %s: pods may still get addresses "
                                    "from it; set pool_name to %s to replace it"
                                    % (pool["name"], pool["cidr"], desired["cidr"], pool["name"])))
        elif ipranges.overlaps(pool["network"], network):
            findings.append(finding("calico_pool_overlap", "pod_cidr", "the pod CIDR %s overlaps the live pool %s (%s)"
                                    % (desired["cidr"], pool["name"], pool["cidr"])))

    # Resources: the end state.
    if operator:
        preserved = [copy.deepcopy(p["raw"]) for p in state["preserved"]]

        def render_with(ip_pools):
            return render_installation(ip_pools, mtu, method, version)

        installation_obj = render_with(preserved + [render_operator_pool(desired, calico_version)])
        resources = [installation_obj]
        final = installation_obj
        # The operator passes the Installation's MTU to every tunnel, WireGuard's included;
        # turning WireGuard on is Felix's own setting.
        felix = render_felix_configuration(None, encapsulation, version, wireguard)
        if felix is not None:
            resources.append(felix)
    else:
        resources = [render_ip_pool(desired)]
        felix = render_felix_configuration(mtu, encapsulation, version, wireguard)
        if felix is not None:
            resources.append(felix)
        # Without a tunnel, the pod MTU reaches calico-node only through veth_mtu in calico.yaml.
        if mtu is not None and felix_mtu_field(encapsulation, version) is None and not wireguard \
                and not (s.get("release_manifest") or s.get("release_manifest_customised")):
            findings.append(warning("calico_mtu_not_applied", "mtu",
                                    "with encapsulation None there is no tunnel device, and this run does not "
                                    "customise calico.yaml: set veth_mtu %d in its calico-config ConfigMap for "
                                    "the pod MTU to apply" % mtu))
        render_with = None
        final = None

    drift = drift_of(desired, replaced)
    plan = []
    if drift:
        if overlapping_change and temporary is None:
            findings.append(finding("calico_migration_temporary_cidr_required", "migration_temporary_cidr",
                                    "the new pool %s (block /%d) overlaps the live pool(s) %s, so both cannot exist "
                                    "at once: give a free CIDR for a temporary pool" % (desired["cidr"],
                                                                                        desired["block_size"],
                                                                                        _names(replaced))))
        else:
            plan = migration_plan(operator, desired, replaced, temporary, state["candidates"],
                                  [p["raw"] for p in state["candidates"]] if state["use_installation"] else [],
                                  render_with, final, calico_version)
        summary = "; ".join("%s of %s: %s -> %s" % (d["field"], d["pool"], d["live"], d["desired"]) for d in drift)
        if s.get("allow_migration"):
            findings.append(warning("calico_migration_pending", "live",
                                    "immutable pool fields differ (%s): follow migration_plan step by step" % summary))
        else:
            for item in drift:
                findings.append(finding("calico_immutable_change", item["field"],
                                        "%s of the live pool %s is %s, the settings want %s; it cannot change in "
                                        "place. Review migration_plan and set allow_migration to proceed"
                                        % (item["field"], item["pool"], item["live"], item["desired"])))

    result.update({
        "resources": resources,
        "drift": drift,
        "migration_plan": plan,
        "pool": {"name": desired["name"], "cidr": desired["cidr"], "block_size": desired["block_size"],
                 "encapsulation": encapsulation, "nat_outgoing": desired["nat_outgoing"]},
        "wireguard": wireguard,
        "mtu": mtu,
        "ip_autodetection_method": autodetection_env(method),
    })
    return result


def config_run(params, files, show_diff):
    """One run of calico_config from its validated options: ``(result, findings)``.

    ``files`` writes ``dest`` (see manifest_file.write_text); the module and its action
    plugin both come through here. A release manifest that cannot be read raises
    manifest_file.ManifestError.
    """
    rendered = build(params)
    findings = rendered["findings"]
    result = dict((key, value) for key, value in rendered.items() if key != "findings")
    if params.get("release_manifest"):
        try:
            objects = manifest_file.read_objects(params["release_manifest"])
        except (IOError, OSError, manifest_file.UnsafeFile, manifest_file.yaml.YAMLError) as error:
            raise manifest_file.ManifestError("[calico_release_manifest_unreadable] release_manifest: %s" % error)
        # As the roles apply release manifests (release_manifests' objects): a bare Namespace
        # declares its name label, a bare Secret its type.
        result["release_resources"] = releases.declare_default_fields(customize_release_manifest(
            objects, rendered["mtu"], rendered["ip_autodetection_method"], rendered["pool"]))[0]
    result["changed"] = False
    if params.get("dest") and not errors_of(findings):
        changed, diff = manifest_file.write_or_refuse(files, params["dest"],
                                                      manifest_file.dump_resources(rendered["resources"]), findings)
        result["changed"] = changed
        if diff and show_diff:
            result["diff"] = diff
    return result, findings
