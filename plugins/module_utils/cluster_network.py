# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site's compute network held against the live cluster it targets (DESIGN.md section 5).

Apply mode reads, before anything is applied: kubeadm's ClusterConfiguration
(``kube-system/kubeadm-config``), the ``default/kubernetes`` Service, the
``kube-system/kube-dns`` Service and the Nodes. Each function here compares one of them with
the ``compute_network`` result of compute_network_check and returns findings:
``cluster_network_mismatch`` (an error) where the cluster says otherwise than the site, naming
the setting, the site's value and the cluster's; ``cluster_network_unknown`` (a warning) for
what the cluster does not say (no kubeadm-config on a cluster kubeadm did not make, a Service
or Node missing), so a partial comparison is never silent; ``cluster_dns_ip_differs`` (a
warning) where kube-dns listens inside the service CIDR but not on its tenth address;
``cluster_pod_cidr_inside`` (a warning) where the site's pod CIDR lies inside the cluster's
podSubnet without being all of it.

The compute network is IPv4 (compute_network_check refuses IPv6 values); a dual-stack cluster's
comma-separated subnets and its Services' ``clusterIPs`` are compared by their IPv4 part.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

try:
    import yaml
except ImportError:
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_YAML = True
    YAML_IMPORT_ERROR = None

from ansible.module_utils.six import string_types

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import finding, warning

# Where each value is read, for the messages.
KUBEADM_CONFIG = "kube-system/kubeadm-config"
KUBERNETES_SERVICE = "default/kubernetes"
DNS_SERVICE = "kube-system/kube-dns"
# The API server puts the kubernetes Service on the first address of its service CIDR; kubeadm
# puts kube-dns on the tenth (compute_network_check's kubernetes_service_ip and cluster_dns_ip).
KUBERNETES_SERVICE_INDEX = 1
CLUSTER_DNS_INDEX = 10
# kubeadm's default dnsDomain, which it writes into the ClusterConfiguration it stores.
KUBEADM_DEFAULT_DOMAIN = "cluster.local"
# Nodes outside the node IPs reported one by one; the rest in one more finding.
MAX_NODE_FINDINGS = 20
_SHOWN_MAX = 120


def shown(value):
    """A value read from the cluster, safe to put in a message: one line, bounded."""
    if isinstance(value, string_types):
        text = value if value.isprintable() else repr(value)
    else:
        text = repr(value)
    return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX] + "..."


# ---------------------------------------------------------------------------
# What the site says (the compute_network result) and what the cluster says.
# ---------------------------------------------------------------------------

class Site(object):
    """The values of ``compute_network`` the cluster is held against.

    ``service`` and ``pod`` are ``(first, last, prefix)`` of IPv4 networks, ``node_spans`` the
    merged ``(first, last)`` spans of the node IPs, ``domain`` lower-case without a trailing dot.
    A value that cannot be read is None, with an ``invalid_address`` finding in ``findings``.
    """

    def __init__(self, compute_network):
        network = compute_network if isinstance(compute_network, dict) else {}
        self.findings = []
        self.service_text = network.get("service_cidr")
        self.pod_text = network.get("pod_cidr")
        self.service = self._network("service_cidr", self.service_text)
        self.pod = self._network("pod_cidr", self.pod_text)
        domain = network.get("cluster_domain", KUBEADM_DEFAULT_DOMAIN)
        self.domain_text = domain
        self.domain = normal_domain(domain)
        node_ips = network.get("node_ips")
        self.node_ranges = node_ips.get("ranges") if isinstance(node_ips, dict) else None
        self.node_spans = self._spans("node_ips", self.node_ranges)

    def _invalid(self, key, value):
        self.findings.append(finding("invalid_address", "compute_network." + key,
                                     "%s is not an IPv4 value (run compute_network_check first)" % shown(value)))

    def _network(self, key, text):
        network = ipv4_network(text)
        if network is None:
            self._invalid(key, text)
        return network

    def _spans(self, key, ranges):
        spans, errors = ipranges.parse_spans(ranges if isinstance(ranges, list) else [])
        if errors or not spans or any(version != 4 for version, _first, _last in spans):
            self._invalid(key, ranges)
            return None
        return ipranges.merge_spans([(first, last) for _version, first, last in spans])

    def service_host(self, index):
        """The ``index``-th address of the site's service CIDR, or None."""
        if self.service is None or self.service[0] + index > self.service[1]:
            return None
        return ipranges.ipv4_text(self.service[0] + index)

    def in_service_cidr(self, value):
        return self.service is not None and self.service[0] <= value <= self.service[1]


def normal_domain(domain):
    """A DNS domain as compared: lower case, without a trailing dot; None if not a string."""
    if not isinstance(domain, string_types):
        return None
    return domain.strip().rstrip(".").lower()


def ipv4_network(text):
    """``(first, last, prefix)`` of an IPv4 CIDR (host bits dropped), or None."""
    if not isinstance(text, string_types):
        return None
    try:
        version, first, last, prefix = ipranges.network_value(text, require_network=False)
    except (ipranges.AddressError, ValueError, TypeError):
        return None
    return (first, last, prefix) if version == 4 else None


def network_text(network):
    return "%s/%d" % (ipranges.ipv4_text(network[0]), network[2])


def ipv4_address(text):
    """An IPv4 address as an integer, or None (IPv6, or not an address)."""
    if not isinstance(text, string_types) or ":" in text:
        return None
    try:
        version, value = ipranges.address_value(text)
    except (ipranges.AddressError, ValueError, TypeError):
        return None
    return value if version == 4 else None


def split_subnets(value):
    """The entries of a subnet setting, which dual-stack clusters give comma-separated."""
    if not isinstance(value, string_types):
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def cluster_configuration(configmaps):
    """``(ClusterConfiguration, findings)`` from the kubeadm-config ConfigMap(s) k8s_info read.

    None with no finding when there is none (a cluster kubeadm did not make); None with a
    ``cluster_network_unknown`` warning when it cannot be read.
    """
    items = [item for item in configmaps or [] if isinstance(item, dict)]
    if not items:
        return None, []
    data = items[0].get("data") if isinstance(items[0].get("data"), dict) else {}
    text = data.get("ClusterConfiguration")
    problem = None
    config = None
    if not isinstance(text, string_types):
        problem = "holds no ClusterConfiguration"
    elif not HAS_YAML:
        problem = "cannot be read without PyYAML"
    else:
        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError as error:
            problem = "holds a ClusterConfiguration that is not YAML (%s)" % shown(str(error).splitlines()[0])
        else:
            if not isinstance(config, dict):
                problem = "holds a ClusterConfiguration that is not a mapping"
    if problem:
        return None, [warning("cluster_network_unknown", "kubeadm_config",
                              "%s %s: the service CIDR, pod CIDR and DNS domain are not compared with it"
                              % (KUBEADM_CONFIG, problem))]
    return config, []


# ---------------------------------------------------------------------------
# The rules: one comparison each.
# ---------------------------------------------------------------------------

def compare_subnet(site_network, cluster_value, field, source, inside_allowed=False):
    """The site's IPv4 CIDR against a cluster subnet setting (IPv4, or dual-stack ``v4,v6``).

    The service CIDR must be the cluster's (the API server hands out cluster IPs from it). The pod
    CIDR may lie inside the cluster's (``inside_allowed``): Calico's IPAM allocates from its pool
    alone, and the Tigera operator asks only that every pool lie inside podSubnet.
    """
    if site_network is None:
        return []
    entries = split_subnets(cluster_value)
    cluster_v4 = [entry for entry in entries if ":" not in entry]
    site_shown = network_text(site_network)
    if not cluster_v4:
        return [finding("cluster_network_mismatch", field,
                        "the site has %s; the cluster has no IPv4 one: %s (%s)"
                        % (site_shown, shown(cluster_value) if entries else "none", source))]
    cluster_network = ipv4_network(cluster_v4[0])
    if cluster_network is not None and cluster_network[0] == site_network[0] and cluster_network[2] == site_network[2]:
        return []
    if (inside_allowed and cluster_network is not None
            and cluster_network[0] <= site_network[0] and site_network[1] <= cluster_network[1]):
        return [warning("cluster_pod_cidr_inside", field,
                        "the site has %s, inside the cluster's %s (%s): Calico's pool takes only that part of "
                        "the cluster's pod addresses" % (site_shown, shown(cluster_v4[0]), source))]
    return [finding("cluster_network_mismatch", field,
                    "the site has %s; the cluster has %s (%s)" % (site_shown, shown(cluster_v4[0]), source))]


def compare_dns_domain(site, cluster_domain, field, source):
    if site.domain is None or normal_domain(cluster_domain) == site.domain:
        return []
    return [finding("cluster_network_mismatch", field, "the site has %s; the cluster has %s (%s)"
                    % (shown(site.domain_text), shown(cluster_domain), source))]


def compare_cluster_configuration(site, config, field_prefix=""):
    """serviceSubnet, podSubnet and dnsDomain of kubeadm's ClusterConfiguration."""
    networking = config.get("networking") if isinstance(config.get("networking"), dict) else {}
    where = KUBEADM_CONFIG + " ClusterConfiguration networking."
    found = compare_subnet(site.service, networking.get("serviceSubnet"),
                           field_prefix + "service_cidr", where + "serviceSubnet")
    pod_subnet = networking.get("podSubnet")
    if split_subnets(pod_subnet):
        found += compare_subnet(site.pod, pod_subnet, field_prefix + "pod_cidr", where + "podSubnet",
                                inside_allowed=True)
    else:
        found.append(warning("cluster_network_unknown", field_prefix + "pod_cidr",
                             "%s sets no podSubnet (the cluster was made without --pod-network-cidr): "
                             "the pod CIDR is not compared" % KUBEADM_CONFIG))
    # kubeadm stores its defaulted configuration; a dnsDomain left out is its default.
    domain = networking.get("dnsDomain") or KUBEADM_DEFAULT_DOMAIN
    found += compare_dns_domain(site, domain, field_prefix + "cluster_domain", where + "dnsDomain")
    return found


def service_ipv4(service):
    """The IPv4 cluster IPs of a Service object (``spec.clusterIPs``, else ``spec.clusterIP``)."""
    spec = service.get("spec") if isinstance(service, dict) and isinstance(service.get("spec"), dict) else {}
    ips = spec.get("clusterIPs")
    if not isinstance(ips, list) or not ips:
        ips = [spec.get("clusterIP")]
    return [(ip, ipv4_address(ip)) for ip in ips if ipv4_address(ip) is not None]


def compare_kubernetes_service(site, services, field_prefix=""):
    """The kubernetes Service sits on the first address of the cluster's service CIDR."""
    field = field_prefix + "service_cidr"
    services = [item for item in services or [] if isinstance(item, dict)]
    if not services:
        return [warning("cluster_network_unknown", field, "the Service %s was not found: the service CIDR is not "
                        "compared with the address the API server gives it" % KUBERNETES_SERVICE)]
    ips = service_ipv4(services[0])
    if not ips:
        return [warning("cluster_network_unknown", field, "the Service %s has no IPv4 cluster IP: the service CIDR "
                        "is not compared with it" % KUBERNETES_SERVICE)]
    expected = site.service_host(KUBERNETES_SERVICE_INDEX)
    if site.service is None or ips[0][0] == expected:
        return []
    return [finding("cluster_network_mismatch", field,
                    "the site has %s, whose first address is %s; the cluster's Service %s, which the API server "
                    "puts on the first address of its service CIDR, is at %s"
                    % (network_text(site.service), expected, KUBERNETES_SERVICE, shown(ips[0][0])))]


def compare_dns_service(site, services, field_prefix=""):
    """``(cluster_dns_ip, findings)``: kube-dns inside the site's service CIDR, at its tenth address.

    ``cluster_dns_ip`` is the address kube-dns really has, or None when it is not known.
    """
    field = field_prefix + "service_cidr"
    services = [item for item in services or [] if isinstance(item, dict)]
    if not services:
        return None, [warning("cluster_network_unknown", field, "the Service %s was not found: the cluster DNS address "
                              "is not compared; the tenth address of the service CIDR is used" % DNS_SERVICE)]
    ips = service_ipv4(services[0])
    if not ips:
        return None, [warning("cluster_network_unknown", field, "the Service %s has no IPv4 cluster IP: the cluster "
                              "DNS address is not compared; the tenth address of the service CIDR is used"
                              % DNS_SERVICE)]
    text, value = ips[0]
    if site.service is None:
        return text, []
    tenth = site.service_host(CLUSTER_DNS_INDEX)
    if not site.in_service_cidr(value):
        return text, [finding("cluster_network_mismatch", field,
                              "the site has %s; the cluster's DNS Service %s is at %s, outside it"
                              % (network_text(site.service), DNS_SERVICE, shown(text)))]
    if text != tenth:
        return text, [warning("cluster_dns_ip_differs", field,
                              "the cluster's DNS Service %s is at %s, not on the tenth address of %s (%s); "
                              "%s is used" % (DNS_SERVICE, text, network_text(site.service), tenth, text))]
    return text, []


def node_internal_ips(node):
    """``(name, [IPv4 InternalIP text], [other InternalIP text])`` of a Node object."""
    metadata = node.get("metadata") if isinstance(node.get("metadata"), dict) else {}
    status = node.get("status") if isinstance(node.get("status"), dict) else {}
    addresses = status.get("addresses") if isinstance(status.get("addresses"), list) else []
    internal = [item.get("address") for item in addresses
                if isinstance(item, dict) and item.get("type") == "InternalIP"]
    ipv4 = [address for address in internal if ipv4_address(address) is not None]
    return metadata.get("name"), ipv4, [address for address in internal if address not in ipv4]


def compare_nodes(site, nodes, field_prefix=""):
    """``(node_addresses, findings)``: every Node's IPv4 InternalIP lies in the site's node IPs."""
    field = field_prefix + "node_ips"
    nodes = [item for item in nodes or [] if isinstance(item, dict)]
    if not nodes:
        return [], [warning("cluster_network_unknown", field, "the cluster has no Node: the node IPs are not compared "
                            "with the nodes' InternalIP addresses")]
    addresses, outside, unknown = [], [], []
    for node in nodes:
        name, ipv4, other = node_internal_ips(node)
        addresses.append({"name": name, "addresses": ipv4 + other})
        if not ipv4:
            unknown.append("%s (%s)" % (shown(name), ", ".join(shown(a) for a in other) if other else "none"))
            continue
        if site.node_spans is None:
            continue
        away = [address for address in ipv4 if not ipranges.spans_hold(site.node_spans, ipv4_address(address))]
        if away:
            outside.append((name, away))
    found = []
    site_ranges = ", ".join(shown(r) for r in site.node_ranges) if outside else ""
    for name, away in outside[:MAX_NODE_FINDINGS]:
        found.append(finding("cluster_network_mismatch", field,
                             "the site has %s; the cluster's Node %s has the InternalIP %s, outside them"
                             % (site_ranges, shown(name), ", ".join(shown(a) for a in away))))
    if len(outside) > MAX_NODE_FINDINGS:
        found.append(finding("cluster_network_mismatch", field, "the site has %s; %d more Nodes have an InternalIP "
                             "outside them" % (site_ranges, len(outside) - MAX_NODE_FINDINGS)))
    if unknown:
        found.append(warning("cluster_network_unknown", field, "Nodes without an IPv4 InternalIP, not compared "
                             "with the node IPs: %s" % "; ".join(unknown[:MAX_NODE_FINDINGS])
                             + (" and %d more" % (len(unknown) - MAX_NODE_FINDINGS)
                                if len(unknown) > MAX_NODE_FINDINGS else "")))
    return addresses, found


# ---------------------------------------------------------------------------
# The whole comparison.
# ---------------------------------------------------------------------------

def check_cluster(compute_network, kubeadm_config=None, kubernetes_service=None, dns_service=None, nodes=None,
                  field_prefix=""):
    """``(cluster, findings)``: what the cluster says, and every disagreement with the site at once.

    The arguments after ``compute_network`` are lists of objects as k8s_info returns them in
    ``resources``; an empty list is an object the cluster does not have.
    """
    site = Site(compute_network)
    found = list(site.findings)
    config, config_findings = cluster_configuration(kubeadm_config)
    found += config_findings
    if config is not None:
        found += compare_cluster_configuration(site, config, field_prefix)
    elif not config_findings:
        found.append(warning("cluster_network_unknown", "kubeadm_config",
                             "%s was not found (a cluster kubeadm did not make): the pod CIDR and the DNS domain are "
                             "not compared, and the service CIDR only by its first and tenth addresses"
                             % KUBEADM_CONFIG))
    found += compare_kubernetes_service(site, kubernetes_service, field_prefix)
    dns_ip, dns_findings = compare_dns_service(site, dns_service, field_prefix)
    found += dns_findings
    node_addresses, node_findings = compare_nodes(site, nodes, field_prefix)
    found += node_findings
    networking = config.get("networking") if isinstance(config, dict) and isinstance(
        config.get("networking"), dict) else {}
    kubernetes_ips = service_ipv4((kubernetes_service or [None])[0])
    cluster = {
        "kubeadm": config is not None,
        "service_cidr": networking.get("serviceSubnet"),
        "pod_cidr": networking.get("podSubnet"),
        "cluster_domain": (networking.get("dnsDomain") or KUBEADM_DEFAULT_DOMAIN) if config is not None else None,
        "kubernetes_service_ip": kubernetes_ips[0][0] if kubernetes_ips else None,
        "cluster_dns_ip": dns_ip,
        "node_addresses": node_addresses,
    }
    return cluster, found


def check_run(params):
    """One run of cluster_network_check from its validated options: ``(result, findings)``."""
    cluster, found = check_cluster(params.get("compute_network"), params.get("kubeadm_config"),
                                   params.get("kubernetes_service"), params.get("dns_service"),
                                   params.get("nodes"), params.get("field_prefix") or "")
    site_dns = Site(params.get("compute_network")).service_host(CLUSTER_DNS_INDEX)
    result = dict(changed=False, cluster=cluster, cluster_dns_ip=cluster["cluster_dns_ip"] or site_dns)
    return result, found
