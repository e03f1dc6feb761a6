#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_network_check
short_description: Hold the site's compute network against the live cluster it targets
version_added: 0.2.0
description:
  - Compares the normalised compute network of a site (the C(compute_network) result of
    M(edgeops.k8s_network.compute_network_check)) with what the cluster itself says about its network, and
    refuses a site that disagrees with the cluster with the code C(cluster_network_mismatch), each finding
    naming the setting, the site's value and the cluster's value.
  - "What is compared: kubeadm's ClusterConfiguration (the C(kube-system/kubeadm-config) ConfigMap),
    C(networking.serviceSubnet) with the service CIDR, C(networking.podSubnet) with the pod CIDR (which may
    lie inside it, with a warning) and C(networking.dnsDomain) with the cluster domain; the
    C(default/kubernetes) Service's cluster IP with the first address of the service CIDR (where the API
    server puts it); the C(kube-system/kube-dns) Service's
    cluster IP, which must lie in the service CIDR; every Node's InternalIP address, which must lie in the
    node IPs."
  - A dual-stack cluster gives its subnets comma-separated and its Services two cluster IPs; the compute
    network is IPv4, so the IPv4 part is compared.
  - "What the cluster does not say is not compared, and a warning (C(cluster_network_unknown)) says what was
    left out: a cluster kubeadm did not make has no kubeadm-config, so its pod CIDR and DNS domain are not
    compared and its service CIDR only through the two Services."
  - The module only compares what it is given; it does not talk to the cluster. The C(compute_network) role
    reads the objects with M(kubernetes.core.k8s_info) (C(tasks_from=live_cluster.yml)), and
    C(playbooks/bringup.yml) runs it in apply mode before the first object is applied.
  - "Pure computation on the controller (C(delegate_to: localhost)), inside the controller's Python through
    the collection's action plugin of the same name."
author:
  - edgeops maintainers (@edgeops)
options:
  compute_network:
    description:
      - The C(compute_network) result of M(edgeops.k8s_network.compute_network_check). Its C(service_cidr),
        C(pod_cidr), C(cluster_domain) and C(node_ips) are compared.
    type: dict
    required: true
  kubeadm_config:
    description:
      - The C(kube-system/kubeadm-config) ConfigMap, as the C(resources) of M(kubernetes.core.k8s_info) (a list
        of at most one object). Empty for a cluster kubeadm did not make.
    type: list
    elements: dict
    default: []
  kubernetes_service:
    description: The C(default/kubernetes) Service, as the C(resources) of M(kubernetes.core.k8s_info).
    type: list
    elements: dict
    default: []
  dns_service:
    description: The C(kube-system/kube-dns) Service, as the C(resources) of M(kubernetes.core.k8s_info).
    type: list
    elements: dict
    default: []
  nodes:
    description: The cluster's Nodes, as the C(resources) of M(kubernetes.core.k8s_info).
    type: list
    elements: dict
    default: []
extends_documentation_fragment:
  - edgeops.k8s_network.findings
notes:
  - "Finding codes: C(cluster_network_mismatch), C(cluster_network_unknown) (warning),
    C(cluster_dns_ip_differs) (warning), C(cluster_pod_cidr_inside) (warning), C(invalid_address). See docs/codes.md."
requirements:
  - netaddr (on the controller; on the task's host only where the controller lacks it)
  - PyYAML
attributes:
  action:
    support: full
    description: Runs in the controller's Python through an action plugin.
  check_mode:
    support: full
    description: The module only compares; it runs in check mode as in a real run.
  diff_mode:
    support: none
    description: Nothing is written.
"""

EXAMPLES = r"""
- name: Read kubeadm's ClusterConfiguration  # read-only
  kubernetes.core.k8s_info:
    api_version: v1
    kind: ConfigMap
    namespace: kube-system
    name: kubeadm-config
  register: kubeadm_config
  delegate_to: localhost

- name: Read the kubernetes and kube-dns Services and the Nodes  # read-only
  kubernetes.core.k8s_info:
    api_version: v1
    kind: "{{ item.kind }}"
    namespace: "{{ item.namespace | default(omit) }}"
    name: "{{ item.name | default(omit) }}"
  loop:
    - {kind: Service, namespace: default, name: kubernetes}
    - {kind: Service, namespace: kube-system, name: kube-dns}
    - {kind: Node}
  register: live
  delegate_to: localhost

- name: Refuse a site that disagrees with its cluster
  edgeops.k8s_network.cluster_network_check:
    compute_network: "{{ compute_network }}"
    kubeadm_config: "{{ kubeadm_config.resources }}"
    kubernetes_service: "{{ live.results[0].resources }}"
    dns_service: "{{ live.results[1].resources }}"
    nodes: "{{ live.results[2].resources }}"
    field_prefix: compute_network_
  delegate_to: localhost
  register: cluster_match
"""

RETURN = r"""
findings:
  description: Every disagreement and every value not compared, each C({code, severity, field, message}).
  returned: always
  type: list
  elements: dict
  sample: [{code: cluster_network_mismatch, severity: error, field: compute_network_pod_cidr,
            message: "the site has 172.27.0.0/16; the cluster has 10.244.0.0/16 (kube-system/kubeadm-config
                      ClusterConfiguration networking.podSubnet)"}]
cluster_dns_ip:
  description:
    - The cluster DNS address to use, the C(kube-dns) Service's IPv4 cluster IP; the tenth address of the site's
      service CIDR where the cluster has no such Service.
  returned: always
  type: str
  sample: 10.96.0.10
cluster:
  description: What the cluster says, as read; null where it does not say.
  returned: always
  type: dict
  contains:
    kubeadm:
      description: Whether a readable kubeadm ClusterConfiguration was found.
      type: bool
      sample: true
    service_cidr:
      description: ClusterConfiguration C(networking.serviceSubnet), as written there.
      type: str
      sample: 10.96.0.0/12
    pod_cidr:
      description: ClusterConfiguration C(networking.podSubnet), as written there.
      type: str
      sample: 10.244.0.0/16,fd00:10:244::/56
    cluster_domain:
      description: ClusterConfiguration C(networking.dnsDomain) (kubeadm's default C(cluster.local) when left out).
      type: str
      sample: cluster.local
    kubernetes_service_ip:
      description: The C(default/kubernetes) Service's IPv4 cluster IP.
      type: str
      sample: 10.96.0.1
    cluster_dns_ip:
      description: The C(kube-system/kube-dns) Service's IPv4 cluster IP.
      type: str
      sample: 10.96.0.10
    node_addresses:
      description: Each Node's InternalIP addresses.
      type: list
      elements: dict
      sample: [{name: edge-1, addresses: [192.168.10.11]}]
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.edgeops.k8s_network.plugins.module_utils import cluster_network, ipranges
from ansible_collections.edgeops.k8s_network.plugins.module_utils.arguments import ansible_module
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import report

ARGUMENT_SPEC = dict(
    compute_network=dict(type="dict", required=True),
    kubeadm_config=dict(type="list", elements="dict", default=[]),
    kubernetes_service=dict(type="list", elements="dict", default=[]),
    dns_service=dict(type="list", elements="dict", default=[]),
    nodes=dict(type="list", elements="dict", default=[]),
    field_prefix=dict(type="str", default=""),
    strict=dict(type="bool", default=False),
)


def main():
    module = ansible_module(ARGUMENT_SPEC, supports_check_mode=True)
    if not ipranges.HAS_NETADDR:
        module.fail_json(msg=missing_required_lib("netaddr"), exception=ipranges.NETADDR_IMPORT_ERROR)
    if not cluster_network.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=cluster_network.YAML_IMPORT_ERROR)
    result, findings = cluster_network.check_run(module.params)
    report(module, findings, strict=module.params["strict"], **result)


if __name__ == "__main__":
    main()
