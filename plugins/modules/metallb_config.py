#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: metallb_config
short_description: Render and check MetalLB address pools, advertisements and BGP peers
version_added: 0.1.0
description:
  - Renders the MetalLB configuration of one cluster, either as custom resources (MetalLB 0.13 and later)
    or as the legacy C(config) ConfigMap (MetalLB 0.12 and earlier), in apply order.
  - Refuses what MetalLB's admission webhook refuses (a pool without addresses, a bad CIDR or range, a range
    whose start is after its end, entries that overlap in one pool or across pools, two pools of one name,
    invalid object names), and also what MetalLB accepts silently and gets wrong, a CIDR with host bits set
    (MetalLB widens it to the whole network) and a range mixing IPv4 and IPv6 (MetalLB keeps it and it yields
    no address). Entries touching at one address overlap.
  - With I(compute_network), the result of M(edgeops.k8s_network.compute_network_check), the default pool is
    its external service IPs, the BGP peers default to its peers, and every pool is checked against its node
    IPs, pod and service CIDRs, gateway and (layer2) compute subnet.
  - Given the LoadBalancer IPs services hold now (I(assigned)), a change that no pool would hold one of them in
    is an error (C(metallb_ips_orphaned)) unless I(allow_orphaned_ips) is set; C(orphaned) lists them.
  - BGP passwords never pass through this module. A peer refers to a C(kubernetes.io/basic-auth) Secret
    (key C(password)) by name, and the caller creates that Secret in a C(no_log) task; C(password_secrets)
    lists the Secrets the peers refer to.
  - Pure computation, run once per cluster on the controller. With I(dest) it writes the objects as
    multi-document YAML, only when the text changes.
author:
  - edgeops maintainers (@edgeops)
options:
  pools:
    description:
      - Address pools. Empty means one pool named C(default) holding the external service IPs of
        I(compute_network).
    type: list
    elements: dict
    suboptions:
      name:
        description: Pool name, a Kubernetes object name (DNS-1123 subdomain); unique.
        type: str
      addresses:
        description:
          - CIDRs (no host bits), ranges C(a-b) of one address family, or single addresses (written as /32 or /128),
            as a list or a comma-separated string.
        type: list
        elements: str
      auto_assign:
        description: Whether MetalLB hands out the pool's addresses to services that do not ask for a pool.
        type: bool
        default: true
      avoid_buggy_ips:
        description: Skip IPv4 addresses ending in C(.0) and C(.255). A service holding one of them counts as orphaned.
        type: bool
        default: false
  protocol:
    description:
      - How the addresses are announced, in MetalLB's own words. C(bgp) needs BGP peers.
    type: str
    choices: [layer2, bgp]
    default: layer2
  l2_interfaces:
    description:
      - Interfaces to announce on in C(layer2) mode (L2Advertisement C(interfaces)); empty means all.
    type: list
    elements: str
  node_selectors:
    description:
      - Nodes that announce, as a mapping of node labels, or a list of such mappings (a node matching any of them).
        Each becomes a C(matchLabels) selector of the advertisement; in the legacy format with C(bgp), of each peer.
    type: raw
  bgp_peers:
    description:
      - BGP peers (protocol C(bgp)). Defaults to the peers of I(compute_network).
    type: list
    elements: dict
    suboptions:
      name:
        description: BGPPeer name; derived from the address (C(peer-10-0-0-1)) when absent.
        type: str
      peer_address:
        description: Address of the router.
        type: str
      peer_asn:
        description: ASN of the router (1-65534 or 131072-4294967294).
        type: int
      my_asn:
        description: ASN MetalLB speaks with (same bounds).
        type: int
      hold_time:
        description: BGP hold time, seconds or a duration such as C(90s) or C(1m30s); 0 or 3 s to 65535 s.
        type: raw
      password_secret:
        description:
          - Name of the C(kubernetes.io/basic-auth) Secret holding the peer's password (key C(password)) in
            I(namespace), or C(true) for the derived name C(metallb-bgp-<name>). The module never reads it.
        type: raw
      password:
        description:
          - Better not passed at all. When given, the value is ignored and never returned; the peer refers to the
            Secret C(metallb-bgp-<name>), which the caller must create (warning C(metallb_password_secret_required)).
        type: str
  format:
    description:
      - C(crd) for MetalLB 0.13 and later (IPAddressPool, L2Advertisement or BGPPeer and BGPAdvertisement);
        C(configmap) for MetalLB 0.12 and earlier (ConfigMap C(config) with a C(config) key).
    type: str
    choices: [crd, configmap]
    default: crd
  namespace:
    description: MetalLB's namespace; its webhook refuses objects anywhere else.
    type: str
    default: metallb-system
  assigned:
    description:
      - LoadBalancer IPs services hold now, each C({namespace, name, ip}), for example from the
        C(edgeops.k8s_network.loadbalancer_ips) filter with C(detail=true).
    type: list
    elements: dict
  allow_orphaned_ips:
    description:
      - Accept a change after which no pool holds an IP in I(assigned); C(metallb_ips_orphaned) becomes a warning.
    type: bool
    default: false
  compute_network:
    description:
      - The C(compute_network) result of M(edgeops.k8s_network.compute_network_check).
    type: dict
  dest:
    description:
      - File to write the objects to, as multi-document YAML in apply order. Written only when its text changes.
      - When BGP peers refer to password Secrets, the file starts with comment lines naming those Secrets and
        saying that the file does not contain them.
      - A symbolic link that leaves its folder, or a path that is not a regular file, is refused.
    type: path
extends_documentation_fragment:
  - ansible.builtin.files
  - edgeops.k8s_network.renderer
notes:
  - "Finding codes: C(metallb_pool_invalid), C(metallb_pool_name_invalid), C(metallb_pool_name_duplicate),
    C(metallb_pool_empty), C(metallb_pools_missing), C(invalid_address), C(range_reversed), C(mixed_family),
    C(host_bits_set), C(ranges_overlap), C(cidr_overlap), C(reserved_address), C(service_ips_outside_subnet),
    C(metallb_protocol_invalid), C(metallb_format_invalid), C(metallb_namespace_invalid),
    C(metallb_compute_network_invalid), C(metallb_interface_invalid), C(metallb_node_selector_invalid),
    C(metallb_option_unsupported), C(metallb_peer_invalid), C(metallb_peer_name_invalid),
    C(metallb_peer_name_duplicate), C(bgp_asn_invalid), C(metallb_hold_time_invalid),
    C(metallb_password_secret_invalid), C(metallb_password_unsupported), C(metallb_password_secret_required),
    C(metallb_bgp_peers_missing), C(metallb_bgp_peers_unused), C(metallb_assigned_invalid),
    C(metallb_ips_orphaned), C(dest_symlink_escapes), C(dest_not_regular_file), C(dest_unwritable),
    C(file_too_large)."
requirements:
  - PyYAML
"""

EXAMPLES = r"""
- name: One layer2 pool from the site's external service IPs
  edgeops.k8s_network.metallb_config:
    compute_network: "{{ site.compute_network }}"
  delegate_to: localhost
  run_once: true
  register: metallb

- name: Two pools, announced only on eth1 of the edge nodes, written into a bundle
  edgeops.k8s_network.metallb_config:
    pools:
      - name: web
        addresses: 192.168.10.100-192.168.10.109
      - name: manual
        addresses: [192.168.10.112/29]
        auto_assign: false
    l2_interfaces: [eth1]
    node_selectors:
      node-role.kubernetes.io/edge: ""
    dest: /srv/bundle/40-metallb.yaml
    mode: "0644"
  delegate_to: localhost
  run_once: true

- name: BGP with a password kept in a Secret the play created with no_log
  edgeops.k8s_network.metallb_config:
    protocol: bgp
    pools:
      - name: announced
        addresses: 10.50.0.0/26
    bgp_peers:
      - name: tor-a
        peer_address: 192.168.10.1
        peer_asn: 64512
        my_asn: 64513
        hold_time: 90s
        password_secret: metallb-bgp-tor-a
    assigned: "{{ services | edgeops.k8s_network.loadbalancer_ips(detail=true) }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
resources:
  description: The objects, in apply order; empty when a finding is an error.
  returned: always
  type: list
  elements: dict
  sample:
    - apiVersion: metallb.io/v1beta1
      kind: IPAddressPool
      metadata: {name: default, namespace: metallb-system, labels: {app.kubernetes.io/managed-by: edgeops.k8s_network}}
      spec: {addresses: [192.168.10.100-192.168.10.119], autoAssign: true, avoidBuggyIPs: false}
    - apiVersion: metallb.io/v1beta1
      kind: L2Advertisement
      metadata: {name: edgeops-k8s-network, namespace: metallb-system,
                 labels: {app.kubernetes.io/managed-by: edgeops.k8s_network}}
      spec: {ipAddressPools: [default]}
orphaned:
  description: Services in I(assigned) whose IP no new pool would hold.
  returned: always
  type: list
  elements: dict
  sample: [{"namespace": "shop", "name": "web", "ip": "192.168.10.130"}]
secrets_notice:
  description:
    - Comment lines naming the Secrets of I(password_secrets) and saying that the objects do not contain them;
      written at the top of I(dest), and for M(edgeops.k8s_network.bundle_file)'s I(header). Empty without them.
  returned: always
  type: str
  sample: "# This file does NOT contain the Secrets its BGP peers refer to for their passwords.\n"
secrets_summary:
  description:
    - One sentence naming the Secrets of I(password_secrets) and how to create them, for the operator to read
      (the bundle's summary prints it). Empty without them.
  returned: always
  type: str
  sample: "The MetalLB objects refer to the BGP password Secret(s) metallb-system/metallb-bgp-tor-a, which they do
    NOT contain: create them (type kubernetes.io/basic-auth, key password) before applying them."
password_secrets:
  description:
    - The Secrets the BGP peers refer to, which the caller must create (never the password itself).
  returned: always
  type: list
  elements: dict
  sample: [{"peer": "tor-a", "name": "metallb-bgp-tor-a", "namespace": "metallb-system",
            "type": "kubernetes.io/basic-auth", "key": "password"}]
findings:
  description: Every problem found, each C({code, severity, field, message}); see the notes for the codes.
  returned: always
  type: list
  elements: dict
  sample: [{"code": "ranges_overlap", "severity": "error", "field": "pools[1].addresses",
            "message": "10.0.0.10-10.0.0.20 in pool 'b' overlaps 10.0.0.1-10.0.0.10 in pool 'a' at 10.0.0.10"}]
dest:
  description: The file written, absolute.
  returned: when I(dest) is set
  type: str
  sample: /srv/bundle/40-metallb.yaml
diff:
  description: Old and new text of I(dest).
  returned: when I(dest) is set, in diff mode
  type: dict
"""

from ansible_collections.edgeops.k8s_network.plugins.module_utils import manifest_file, metallb
from ansible_collections.edgeops.k8s_network.plugins.module_utils.arguments import ansible_module
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import report

ARGUMENT_SPEC = dict(
    pools=dict(type="list", elements="dict", options=dict(
        name=dict(type="str"),
        addresses=dict(type="list", elements="str"),
        auto_assign=dict(type="bool", default=True),
        avoid_buggy_ips=dict(type="bool", default=False),
    )),
    protocol=dict(type="str", choices=["layer2", "bgp"], default="layer2"),
    l2_interfaces=dict(type="list", elements="str"),
    node_selectors=dict(type="raw"),
    bgp_peers=dict(type="list", elements="dict", options=dict(
        name=dict(type="str"),
        peer_address=dict(type="str"),
        peer_asn=dict(type="int"),
        my_asn=dict(type="int"),
        hold_time=dict(type="raw"),
        password_secret=dict(type="raw", no_log=False),
        password=dict(type="str", no_log=True),
    )),
    format=dict(type="str", choices=["crd", "configmap"], default="crd"),
    namespace=dict(type="str", default="metallb-system"),
    assigned=dict(type="list", elements="dict"),
    allow_orphaned_ips=dict(type="bool", default=False),
    compute_network=dict(type="dict"),
    dest=dict(type="path"),
)


def main():
    module = ansible_module(ARGUMENT_SPEC, supports_check_mode=True, add_file_common_args=True)
    manifest_file.require_libraries(module, yaml_needed=True)
    result, findings = metallb.config_run(module.params, module, module._diff)
    report(module, findings, **result)


if __name__ == "__main__":
    main()
