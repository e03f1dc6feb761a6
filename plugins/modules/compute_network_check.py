#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compute_network_check
short_description: Check the compute network settings of an edge Kubernetes site
version_added: 0.1.0
description:
  - Checks the compute network of one site the way an Azure Stack Edge device checks it before
    it configures its compute role, and goes further where common installers are lax
    (partial CIDR overlaps, supernets, host bits, ranges touching at one address).
  - Reports every problem at once as C(findings), each with a stable C(code), and returns the
    normalised network that the renderers (M(edgeops.k8s_network.calico_config),
    M(edgeops.k8s_network.metallb_config), M(edgeops.k8s_network.coredns_config)) take as input.
  - Ranges are handled as ranges, never expanded address by address, so a /8 costs what a /30 costs.
  - "Pure computation: run it once per cluster on the controller (C(delegate_to: localhost),
    C(run_once: true)). It never changes anything."
  - Every list option also accepts a comma-separated string, so AWX survey answers work as typed.
  - The check runs inside the controller's Python, through the collection's action plugin of the
    same name. No module process is started, so a check costs little more than a C(set_fact).
    Only a controller without C(netaddr) runs it as an ordinary module on the task's host.
author:
  - edgeops maintainers (@edgeops)
options:
  node_ips:
    description:
      - Kubernetes node IPs, as C(a.b.c.d-a.b.c.e), a CIDR, a single address, or a list of these.
      - Needs at least I(node_count)+1 addresses (profile C(kubernetes)) or I(node_count)+5 (profile C(aks)).
    type: list
    elements: str
  external_service_ips:
    description:
      - Kubernetes external service IPs, the pool MetalLB hands to LoadBalancer services. Same forms as I(node_ips).
    type: list
    elements: str
  subnet:
    description:
      - The compute network, as a CIDR with no host bits. Derived from I(nodes) when absent.
    type: str
  gateway:
    description:
      - Default gateway of the compute network. Taken from I(nodes) when absent.
    type: str
  dns_servers:
    description:
      - Site DNS servers, used as CoreDNS upstreams. Loopback addresses are refused.
    type: list
    elements: str
  pod_cidr:
    description:
      - Pod CIDR (the Calico IP pool).
    type: str
    default: 172.27.0.0/16
  service_cidr:
    description:
      - Service CIDR. Its first host becomes the C(kubernetes) service IP and its tenth the cluster DNS IP.
    type: str
    default: 172.28.0.0/16
  cluster_domain:
    description:
      - Cluster DNS domain.
    type: str
    default: cluster.local
  node_count:
    description:
      - Number of device nodes in the cluster. Defaults to the number of I(nodes), or 1.
    type: int
  profile:
    description:
      - C(kubernetes) needs I(node_count)+1 node IPs (one master VM plus a worker per node);
        C(aks) needs I(node_count)+5 (control planes, API VIPs and a rolling-update spare).
    type: str
    choices: [kubernetes, aks]
    default: kubernetes
  mtu:
    description:
      - MTU of the compute port. Taken from I(nodes) when absent.
    type: int
  mtu_min:
    description:
      - Lowest accepted port MTU.
    type: int
    default: 1400
  mtu_max:
    description:
      - Highest accepted port MTU.
    type: int
    default: 1500
  encapsulation:
    description:
      - Calico pool encapsulation, used to derive C(pod_mtu) from the port MTU. The same values as the
        I(encapsulation) of M(edgeops.k8s_network.calico_config).
    type: str
    choices: [IPIP, IPIPCrossSubnet, VXLAN, VXLANCrossSubnet, None]
    default: IPIPCrossSubnet
  wireguard:
    description:
      - Encrypt pod traffic between nodes with Calico's WireGuard. In Calico this is not a pool
        encapsulation but a Felix setting beside it (C(wireguardEnabled) in C(FelixConfiguration)).
      - The pod MTU is then the port MTU minus the larger of the encapsulation's and WireGuard's
        60 bytes of headers, as Felix computes it.
    type: bool
    default: false
  block_size:
    description:
      - Calico IPAM block size; the pod CIDR must hold one block per Kubernetes node.
    type: int
    default: 26
  vlan_id:
    description:
      - VLAN of the compute network; 0 means untagged.
    type: int
  bgp_peers:
    description:
      - BGP peers for MetalLB. With peers, the external service IPs may lie outside the compute subnet.
    type: list
    elements: dict
    suboptions:
      peer_address:
        description: Address of the router.
        type: str
        required: true
      peer_asn:
        description: ASN of the router.
        type: int
        required: true
      my_asn:
        description: ASN MetalLB speaks with.
        type: int
        required: true
  load_balancer_ips:
    description:
      - Fixed LoadBalancer IPs that services will request; each must lie in I(external_service_ips).
    type: list
    elements: str
  reserved:
    description:
      - Other addresses in use on the segment (management IPs, VIPs, a DHCP scope). Neither range may include them.
    type: list
    elements: str
  interface:
    description:
      - Name of the compute port, used in messages and in the result.
    type: str
  nodes:
    description:
      - The compute interface as each node sees it, usually built from gathered facts.
    type: list
    elements: dict
    suboptions:
      name:
        description: Node name.
        type: str
      interface:
        description: Compute interface on that node.
        type: str
      address:
        description: The node's IPv4 address on it, as C(ip/prefix). Empty when the interface has none.
        type: str
      mtu:
        description: The interface MTU.
        type: int
      gateway:
        description: The node's default gateway.
        type: str
  in_use:
    description:
      - Addresses found answering on the network, as returned by M(edgeops.k8s_network.compute_ip_probe) in C(in_use).
        Each inside the node or external service IPs gives an C(address_in_use) warning.
    type: list
    elements: raw
  fail_on_error:
    description:
      - Fail when a finding is an error (or, with I(strict), when there is any finding).
        When false, return the findings and let the play decide.
    type: bool
    default: true
extends_documentation_fragment:
  - edgeops.k8s_network.findings
notes:
  - Supports check mode; the module changes nothing either way.
  - "Finding codes: C(invalid_address), C(range_reversed), C(mixed_family), C(ipv6_unsupported),
    C(host_bits_set), C(node_ips_too_few), C(node_ips_outside_subnet), C(service_ips_outside_subnet),
    C(reserved_address), C(ranges_overlap), C(cidr_overlap), C(service_ips_empty), C(service_ips_too_few),
    C(load_balancer_ip_outside_pool), C(service_cidr_too_large), C(service_cidr_too_small), C(pod_cidr_too_small),
    C(gateway_outside_subnet), C(dns_server_loopback), C(mtu_out_of_range), C(vlan_id_invalid),
    C(bgp_asn_invalid), C(node_interface_missing), C(node_subnet_mismatch), C(node_mtu_mismatch),
    C(duplicate_node_address), C(address_in_use), C(cluster_domain_invalid), C(node_count_invalid),
    C(mtu_bounds_invalid), C(calico_block_size_invalid)."
requirements:
  - netaddr (on the controller; on the task's host only where the controller lacks it)
attributes:
  action:
    support: full
    description: Runs in the controller's Python through an action plugin.
  check_mode:
    support: full
    description: The module only computes.
  diff_mode:
    support: none
    description: Nothing is written.
"""

EXAMPLES = r"""
- name: Check a single-node site
  edgeops.k8s_network.compute_network_check:
    node_ips: 192.168.10.11-192.168.10.12
    external_service_ips: 192.168.10.100-192.168.10.119
    subnet: 192.168.10.0/24
    gateway: 192.168.10.1
    dns_servers: 192.168.10.2
    mtu: 1500
  delegate_to: localhost
  run_once: true
  register: site

- name: Show the cluster DNS IP
  ansible.builtin.debug:
    msg: "CoreDNS will answer on {{ site.compute_network.cluster_dns_ip }}"

- name: Collect every finding without failing, then decide
  edgeops.k8s_network.compute_network_check:
    node_ips: "192.168.10.11-192.168.10.12, 192.168.10.20"
    external_service_ips: 192.168.10.100-192.168.10.119
    subnet: 192.168.10.0/24
    pod_cidr: 10.233.0.0/16
    service_cidr: 10.233.0.0/18
    fail_on_error: false
  delegate_to: localhost
  run_once: true
  register: draft

- name: List the codes found
  ansible.builtin.debug:
    msg: "{{ draft.findings | map(attribute='code') | list }}"
"""

RETURN = r"""
findings:
  description: Every problem found, errors and warnings, in one list.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: Stable code, see the notes.
      type: str
      sample: cidr_overlap
    severity:
      description: C(error) or C(warning).
      type: str
      sample: error
    field:
      description: The setting concerned.
      type: str
      sample: pod_cidr
    message:
      description: What is wrong, with the values concerned.
      type: str
      sample: the pod CIDR 10.233.0.0/16 overlaps the service CIDR 10.233.0.0/18 at 10.233.0.0-10.233.63.255
compute_network:
  description: The normalised settings, input for the renderers.
  returned: unless the module fails
  type: dict
  contains:
    subnet:
      description: Compute subnet.
      type: str
      sample: 192.168.10.0/24
    gateway:
      description: Gateway of the compute subnet.
      type: str
      sample: 192.168.10.1
    node_ips:
      description: Node IPs as merged ranges, minimal CIDRs and a count.
      type: dict
      sample: {"ranges": ["192.168.10.11-192.168.10.12"], "cidrs": ["192.168.10.11/32", "192.168.10.12/32"], "count": 2}
    external_service_ips:
      description: External service IPs in the same form as C(node_ips).
      type: dict
      sample: {"ranges": ["192.168.10.100-192.168.10.119"], "cidrs": ["192.168.10.100/30", "192.168.10.104/29",
               "192.168.10.112/29"], "count": 20}
    pod_cidr:
      description: Pod CIDR.
      type: str
      sample: 172.27.0.0/16
    service_cidr:
      description: Service CIDR.
      type: str
      sample: 172.28.0.0/16
    kubernetes_service_ip:
      description: First host of the service CIDR.
      type: str
      sample: 172.28.0.1
    cluster_dns_ip:
      description: Tenth host of the service CIDR, where kube-dns listens.
      type: str
      sample: 172.28.0.10
    cluster_domain:
      description: Cluster DNS domain.
      type: str
      sample: cluster.local
    dns_servers:
      description: Site DNS servers.
      type: list
      elements: str
      sample: ["192.168.10.2"]
    mtu:
      description: Compute port MTU, or null when unknown.
      type: int
      sample: 1500
    encapsulation:
      description: Calico encapsulation the pod MTU was derived for.
      type: str
      sample: IPIPCrossSubnet
    wireguard:
      description: Whether Calico encrypts pod traffic between nodes with WireGuard.
      type: bool
      sample: false
    pod_mtu:
      description:
        - MTU for pod interfaces, or null when the MTU is unknown. The port MTU minus the headers of the
          largest enabled tunnel (IPIP 20, VXLAN 50, WireGuard 60 bytes).
      type: int
      sample: 1480
    block_size:
      description: Calico IPAM block size.
      type: int
      sample: 26
    profile:
      description: Node IP profile.
      type: str
      sample: kubernetes
    node_count:
      description: Number of device nodes.
      type: int
      sample: 1
    vlan_id:
      description: VLAN ID, or null.
      type: int
      sample: null
    interface:
      description: Compute port name.
      type: str
      sample: eth1
    node_addresses:
      description: Each node's address on the compute port.
      type: list
      elements: dict
      sample: [{"name": "edge-1", "address": "192.168.10.11"}]
    load_balancer_ips:
      description: Requested fixed LoadBalancer IPs.
      type: list
      elements: str
      sample: []
    bgp_peers:
      description: BGP peers, normalised.
      type: list
      elements: dict
      sample: []
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.edgeops.k8s_network.plugins.module_utils import calico, ipranges
from ansible_collections.edgeops.k8s_network.plugins.module_utils.arguments import ansible_module
from ansible_collections.edgeops.k8s_network.plugins.module_utils.compute_network import check_outcome

ARGUMENT_SPEC = dict(
    node_ips=dict(type="list", elements="str"),
    external_service_ips=dict(type="list", elements="str"),
    subnet=dict(type="str"),
    gateway=dict(type="str"),
    dns_servers=dict(type="list", elements="str"),
    pod_cidr=dict(type="str", default="172.27.0.0/16"),
    service_cidr=dict(type="str", default="172.28.0.0/16"),
    cluster_domain=dict(type="str", default="cluster.local"),
    node_count=dict(type="int"),
    profile=dict(type="str", choices=["kubernetes", "aks"], default="kubernetes"),
    mtu=dict(type="int"),
    mtu_min=dict(type="int", default=1400),
    mtu_max=dict(type="int", default=1500),
    encapsulation=dict(type="str", default="IPIPCrossSubnet", choices=list(calico.ENCAPSULATIONS)),
    wireguard=dict(type="bool", default=False),
    block_size=dict(type="int", default=26),
    vlan_id=dict(type="int"),
    bgp_peers=dict(type="list", elements="dict", options=dict(
        peer_address=dict(type="str", required=True),
        peer_asn=dict(type="int", required=True),
        my_asn=dict(type="int", required=True),
    )),
    load_balancer_ips=dict(type="list", elements="str"),
    reserved=dict(type="list", elements="str"),
    interface=dict(type="str"),
    nodes=dict(type="list", elements="dict", options=dict(
        name=dict(type="str"),
        interface=dict(type="str"),
        address=dict(type="str"),
        mtu=dict(type="int"),
        gateway=dict(type="str"),
    )),
    in_use=dict(type="list", elements="raw"),
    field_prefix=dict(type="str", default=""),
    strict=dict(type="bool", default=False),
    fail_on_error=dict(type="bool", default=True),
)


def main():
    module = ansible_module(ARGUMENT_SPEC, supports_check_mode=True)
    if not ipranges.HAS_NETADDR:
        module.fail_json(msg=missing_required_lib("netaddr"), exception=ipranges.NETADDR_IMPORT_ERROR)
    result, warnings = check_outcome(dict(module.params))
    for line in warnings:
        module.warn(line)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
