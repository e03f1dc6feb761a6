#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: calico_config
short_description: Render Calico's pod IP pool, MTU and node address detection, guarding immutable pool fields
version_added: 0.1.0
description:
  - Renders the Calico configuration of one cluster as Kubernetes objects, in apply order.
    With I(install_mode=operator), an C(operator.tigera.io/v1) C(Installation) named C(default)
    (C(spec.calicoNetwork) with the pool, the MTU and node address autodetection). With
    I(install_mode=manifest), a C(crd.projectcalico.org/v1) C(IPPool) and the C(FelixConfiguration)
    C(default) carrying the tunnel MTU. With I(wireguard), a C(FelixConfiguration) C(default) that turns
    WireGuard on, in either mode.
  - Enforces the pool rules of Calico's client library, which the C(crd.projectcalico.org/v1) CRD
    does not check, so that a pool the API server accepts cannot crash-loop calico-node. Block size
    20-32 (IPv4) or 116-128 (IPv6), a pool at least one block large, a strictly masked CIDR, no
    overlap with link-local addresses, no IPIP on IPv6, not IPIP and VXLAN together, and at most one
    node address autodetection method.
  - Given the live pools or Installation in I(live), a change of an immutable field (pool CIDR, block
    size) is reported as C(drift) with a step-by-step C(migration_plan) (create the new pool, disable
    the old one, recycle the pods, delete the old pool). Without I(allow_migration) it is an error
    (C(calico_immutable_change)), never a silent merge.
  - Takes the normalised result of M(edgeops.k8s_network.compute_network_check) in I(compute_network),
    so a playbook needs no glue between the check and this module.
  - "Pure computation on the controller (C(delegate_to: localhost), C(run_once: true)); only I(dest) is
    written, and only when its content changes."
author:
  - edgeops maintainers (@edgeops)
options:
  compute_network:
    description:
      - The C(compute_network) result of M(edgeops.k8s_network.compute_network_check).
      - Supplies the defaults of I(pod_cidr) (its C(pod_cidr)), I(block_size) (its C(block_size)),
        I(encapsulation) (its C(encapsulation)), I(mtu) (its port C(mtu) minus the overhead of
        I(encapsulation), or its C(pod_mtu)) and I(node_address_autodetection) (C(cidrs) of its C(subnet)).
      - When given, a pod CIDR that overlaps its C(subnet) or C(service_cidr) is an error.
    type: dict
  pod_cidr:
    description:
      - The pod CIDR, the Calico IP pool. Host bits must be zero.
      - Defaults to C(compute_network.pod_cidr), else C(172.27.0.0/16).
    type: str
  block_size:
    description:
      - Prefix length of the per-node address blocks Calico's IPAM carves from the pool.
      - Defaults to C(compute_network.block_size), else 26 (IPv4) or 122 (IPv6).
    type: int
  encapsulation:
    description:
      - How pod traffic between nodes is carried.
      - Defaults to C(compute_network.encapsulation) when it is one of the choices, else C(IPIPCrossSubnet).
        On an edge site every node sits on one layer 2 compute segment, so with a C(CrossSubnet) mode
        pod traffic between nodes goes unencapsulated at full speed, and only traffic to a node in
        another subnet is tunnelled. IPIP costs 20 bytes a packet against VXLAN's 50 and its routes come
        from the BGP mesh that the manifest install runs anyway. Choose C(VXLANCrossSubnet) (the
        operator's own default in recent releases) where BGP (TCP 179) or IP protocol 4 is filtered
        between nodes, and C(VXLAN) or C(VXLANCrossSubnet) for an IPv6 pool.
    type: str
    choices: [IPIP, IPIPCrossSubnet, VXLAN, VXLANCrossSubnet, None]
  wireguard:
    description:
      - Encrypt pod traffic between nodes with WireGuard. Calico has no WireGuard encapsulation; Felix
        turns it on (C(wireguardEnabled), or C(wireguardEnabledV6) for an IPv6 pool, in the
        C(FelixConfiguration) C(default)) beside whatever I(encapsulation) the pool has.
      - Rendered in both install modes. In I(install_mode=operator) the FelixConfiguration carries only the
        switch; the operator hands the Installation's MTU to every tunnel, WireGuard's included. In
        I(install_mode=manifest) it also carries C(wireguardMTU).
      - The pod MTU derived from I(compute_network) then leaves room for the larger of the encapsulation's
        and WireGuard's headers (60 bytes over IPv4, 80 over IPv6), which is how Felix picks it.
      - Defaults to C(compute_network.wireguard), else false. Setting it back to false stops rendering the
        switch; on a cluster where it was on, set C(wireguardEnabled) to false in the FelixConfiguration
        C(default) to turn WireGuard off.
    type: bool
  calico_version:
    description:
      - The Calico release the cluster runs (or will run), such as C(v3.30.2). Fields the Installation of
        that release does not know are left out; C(ipPools[].assignmentMode) exists from v3.30 (Tigera
        operator v1.38).
      - Releases older than v3.29 are refused (C(calico_version_unsupported)). When absent, the newest
        release is assumed.
    type: str
  nat_outgoing:
    description:
      - Masquerade traffic from pods to destinations outside the pool.
    type: bool
    default: true
  mtu:
    description:
      - The pod MTU (not the port MTU).
      - When absent, derived from I(compute_network) (port MTU minus 20 bytes for IPIP, 50 for VXLAN,
        0 for None, or 60 when I(wireguard) is on and the encapsulation takes less; 20 more each over
        IPv6); without either, left to Calico's auto-detection.
    type: int
  node_address_autodetection:
    description:
      - How calico-node picks each node's address. At most one method may be set.
      - When absent and I(compute_network) knows the compute subnet, C(cidrs) of that subnet. On a
        device with a management and a compute port, the first address found is often the wrong one.
      - In I(install_mode=manifest) there is no object for it; the value for calico-node's
        C(IP_AUTODETECTION_METHOD) comes back as C(ip_autodetection_method).
    type: dict
    suboptions:
      interface:
        description: Regular expression of interface names to take the address from.
        type: str
      skip_interface:
        description: Regular expression of interface names to skip.
        type: str
      cidrs:
        description: Take the address that lies in one of these CIDRs.
        type: list
        elements: str
      can_reach:
        description: Take the source address used to reach this IP or host name.
        type: str
      first_found:
        description: Take the first address of the first usable interface.
        type: bool
      kubernetes:
        description: Take the node's address from its Kubernetes Node object.
        type: str
        choices: [NodeInternalIP]
  install_mode:
    description:
      - C(operator) renders an Installation for the Tigera operator. C(manifest) renders an IPPool and a
        FelixConfiguration for a C(calico.yaml) install.
    type: str
    choices: [operator, manifest]
    default: operator
  pool_name:
    description:
      - Name of the pool. Defaults to C(default-ipv4-ippool) (C(default-ipv6-ippool)), the name Calico
        gives the pool it creates on its own, so that this pool replaces it rather than joins it.
      - A live pool with the same CIDR keeps its own name. During a CIDR migration the new pool is
        named after its CIDR when the old one still holds the name.
    type: str
  live:
    description:
      - The cluster's current pools and Installation, as C(k8s_info) returns them (C(resources)), in
        either form or both (C(crd.projectcalico.org/v1) or C(projectcalico.org/v3) IPPools, and the
        C(operator.tigera.io/v1) Installation C(default)). A registered C(k8s_info) result also works.
      - In I(install_mode=operator) the Installation's pools are compared when it exists, else the IPPools.
    type: list
    elements: raw
    default: []
  allow_migration:
    description:
      - Accept a change of an immutable pool field. The result still carries C(drift) and C(migration_plan);
        C(resources) is the end state, so follow the plan's steps to get there without cutting pods off.
    type: bool
    default: false
  migration_temporary_cidr:
    description:
      - A free CIDR for a temporary pool, needed when the new pool overlaps the one it replaces (a block
        size change on the same CIDR, or a wider or narrower CIDR). Calico refuses overlapping pools, so
        pods move to the temporary pool and back.
    type: str
  release_manifest:
    description:
      - Path, on the controller, of Calico's C(calico.yaml) release manifest (I(install_mode=manifest)).
        Its objects come back in C(release_resources) with C(veth_mtu) in the C(calico-config) ConfigMap
        set to the pod MTU and C(IP_AUTODETECTION_METHOD) on calico-node set to the autodetection method.
        calico-node reads both from there, and its environment beats a FelixConfiguration.
      - calico-node also creates a default pool at start when none exists. When the site's pool is the
        IPv4 pool C(default-ipv4-ippool), C(CALICO_IPV4POOL_CIDR), C(CALICO_IPV4POOL_BLOCK_SIZE) and the
        encapsulation and NAT variables are set to it, so the pool it creates is the site's; otherwise
        C(NO_DEFAULT_POOLS) is set. A default pool with another CIDR never appears.
    type: path
  release_manifest_customised:
    description:
      - The same run sets the pod MTU in calico.yaml's C(veth_mtu) itself (with I(release_manifest) in another
        task, as the C(calico) role's apply mode does), so there is nothing left for the operator to set by hand
        (no C(calico_mtu_not_applied) warning).
    type: bool
    default: false
  dest:
    description:
      - Also write the resources, as multi-document YAML in apply order, to this file. It is written
        only when its content changes, and not at all when there is an error.
    type: path
extends_documentation_fragment:
  - ansible.builtin.files
  - edgeops.k8s_network.renderer
notes:
  - Supports check mode and diff mode for I(dest).
  - "With I(install_mode=manifest), calico.yaml sets calico-node's C(FELIX_IPINIPMTU) and C(FELIX_VXLANMTU)
    from C(veth_mtu) of the C(calico-config) ConfigMap, and environment variables take precedence over
    FelixConfiguration: set C(veth_mtu) to the returned C(mtu) as well."
  - "Finding codes: C(invalid_address), C(host_bits_set), C(cidr_overlap), C(calico_block_size_invalid),
    C(calico_pool_smaller_than_block), C(calico_link_local_overlap), C(calico_ipip_ipv6),
    C(calico_encapsulation_conflict), C(calico_encapsulation_invalid), C(calico_autodetection_conflict),
    C(calico_autodetection_invalid), C(calico_mtu_invalid), C(calico_mtu_too_large), C(calico_mtu_not_applied),
    C(calico_pool_overlap), C(calico_extra_pool), C(calico_immutable_change), C(calico_migration_pending),
    C(calico_migration_temporary_cidr_required), C(calico_migration_temporary_cidr_invalid),
    C(calico_install_mode_mismatch), C(calico_live_invalid), C(calico_version_invalid),
    C(calico_version_unsupported), C(calico_pool_name_invalid), C(dest_symlink_escapes), C(dest_not_regular_file),
    C(dest_unwritable), C(file_too_large). See docs/codes.md."
requirements:
  - PyYAML (for I(dest))
"""

EXAMPLES = r"""
- name: Check the site
  edgeops.k8s_network.compute_network_check:
    node_ips: 192.168.10.11-192.168.10.12
    external_service_ips: 192.168.10.100-192.168.10.119
    subnet: 192.168.10.0/24
    mtu: 1500
  delegate_to: localhost
  run_once: true
  register: site

- name: Read the live Installation
  kubernetes.core.k8s_info:
    api_version: operator.tigera.io/v1
    kind: Installation
  delegate_to: localhost
  run_once: true
  register: live_installation

- name: Render the Installation from the checked settings, refusing a silent pool change
  edgeops.k8s_network.calico_config:
    compute_network: "{{ site.compute_network }}"
    live: "{{ live_installation.resources }}"
  delegate_to: localhost
  run_once: true
  register: calico

- name: Apply it
  kubernetes.core.k8s:
    definition: "{{ calico.resources }}"
    apply: true
    server_side_apply:
      field_manager: edgeops.k8s_network
  delegate_to: localhost
  run_once: true

- name: Write an IPPool and FelixConfiguration for a calico.yaml install into a bundle
  edgeops.k8s_network.calico_config:
    install_mode: manifest
    pod_cidr: 10.244.0.0/16
    encapsulation: VXLANCrossSubnet
    mtu: 1450
    node_address_autodetection:
      interface: ^eth1$
    dest: /srv/bundle/20-calico.yaml
    mode: "0644"
  delegate_to: localhost
  run_once: true

- name: Show each step of a pending pool migration
  ansible.builtin.debug:
    msg: "{{ item.step }}. {{ item.description }}"
  loop: "{{ calico.migration_plan }}"
"""

RETURN = r"""
resources:
  description:
    - The objects of the end state, in apply order. C(operator) mode gives the Installation, then the
      FelixConfiguration C(default) when I(wireguard) is on; C(manifest) mode the IPPool, then the
      FelixConfiguration when there is a tunnel MTU or WireGuard to set.
  returned: success
  type: list
  elements: dict
  sample:
    - apiVersion: operator.tigera.io/v1
      kind: Installation
      metadata: {name: default}
      spec:
        calicoNetwork:
          ipPools:
            - {name: default-ipv4-ippool, cidr: 172.27.0.0/16, blockSize: 26, encapsulation: IPIPCrossSubnet,
               natOutgoing: Enabled, nodeSelector: all(), allowedUses: [Workload, Tunnel], assignmentMode: Automatic,
               disableBGPExport: false, disableNewAllocations: false}
          mtu: 1480
          nodeAddressAutodetectionV4: {cidrs: [192.168.10.0/24]}
drift:
  description: Immutable fields whose live value differs from the settings, one entry per field and pool.
  returned: always
  type: list
  elements: dict
  contains:
    field:
      description: C(pod_cidr) or C(block_size).
      type: str
    pool:
      description: Name of the live pool.
      type: str
    live:
      description: The live value.
      type: raw
    desired:
      description: The value the settings ask for.
      type: raw
  sample: [{field: pod_cidr, pool: default-ipv4-ippool, live: 10.244.0.0/16, desired: 172.27.0.0/16}]
migration_plan:
  description:
    - Ordered steps from the live pools to the settings, when there is drift. Steps already done in the
      live state (a new pool that exists, an old pool already disabled) are left out.
  returned: always
  type: list
  elements: dict
  contains:
    step:
      description: Position, from 1.
      type: int
    action:
      description: C(create_pool), C(disable_pool), C(recycle_pods) or C(delete_pool).
      type: str
    description:
      description: What to do and why.
      type: str
    pool:
      description: The pool or pools concerned.
      type: str
    object:
      description: The object to apply for this step (an IPPool, or the whole Installation).
      type: dict
      returned: for create_pool and disable_pool, and delete_pool in operator mode
    delete:
      description: C(apiVersion), C(kind) and C(name) of the IPPool to delete.
      type: dict
      returned: for delete_pool in manifest mode
    cidrs:
      description: The CIDRs whose pods must be recycled.
      type: list
      elements: str
      returned: for recycle_pods
findings:
  description: Every problem found, as C({code, severity, field, message}).
  returned: always
  type: list
  elements: dict
  sample: [{code: calico_block_size_invalid, severity: error, field: block_size,
            message: "IPv4 block size must be between 20 and 32, got 33"}]
pool:
  description: The pool as rendered.
  returned: success
  type: dict
  sample: {name: default-ipv4-ippool, cidr: 172.27.0.0/16, block_size: 26, encapsulation: IPIPCrossSubnet,
           nat_outgoing: true}
wireguard:
  description: Whether WireGuard is turned on in the rendered FelixConfiguration.
  returned: success
  type: bool
  sample: false
mtu:
  description: The pod MTU rendered, or null when left to Calico's auto-detection.
  returned: success
  type: int
  sample: 1480
ip_autodetection_method:
  description: The node address method in calico-node's C(IP_AUTODETECTION_METHOD) form, or null.
  returned: success
  type: str
  sample: cidr=192.168.10.0/24
release_resources:
  description: The objects of I(release_manifest), with the site's pod MTU, autodetection method and default pool set.
  returned: when I(release_manifest) is given
  type: list
  elements: dict
  sample: [{apiVersion: v1, kind: ConfigMap, metadata: {name: calico-config, namespace: kube-system},
            data: {veth_mtu: "1480"}}]
"""

from ansible_collections.edgeops.k8s_network.plugins.module_utils import calico, manifest_file
from ansible_collections.edgeops.k8s_network.plugins.module_utils.arguments import ansible_module
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import report

ARGUMENT_SPEC = dict(
    compute_network=dict(type="dict"),
    pod_cidr=dict(type="str"),
    block_size=dict(type="int"),
    encapsulation=dict(type="str", choices=list(calico.ENCAPSULATIONS)),
    wireguard=dict(type="bool"),
    calico_version=dict(type="str"),
    nat_outgoing=dict(type="bool", default=True),
    mtu=dict(type="int"),
    node_address_autodetection=dict(type="dict", options=dict(
        interface=dict(type="str"),
        skip_interface=dict(type="str"),
        cidrs=dict(type="list", elements="str"),
        can_reach=dict(type="str"),
        first_found=dict(type="bool"),
        kubernetes=dict(type="str", choices=["NodeInternalIP"]),
    )),
    install_mode=dict(type="str", choices=["operator", "manifest"], default="operator"),
    pool_name=dict(type="str"),
    live=dict(type="list", elements="raw", default=[]),
    allow_migration=dict(type="bool", default=False),
    migration_temporary_cidr=dict(type="str"),
    release_manifest=dict(type="path"),
    release_manifest_customised=dict(type="bool", default=False),
    dest=dict(type="path"),
)


def main():
    module = ansible_module(ARGUMENT_SPEC, supports_check_mode=True, add_file_common_args=True)
    manifest_file.require_libraries(module, yaml_needed=bool(module.params["dest"] or module.params["release_manifest"]))
    try:
        result, findings = calico.config_run(module.params, module, module._diff)
    except manifest_file.ManifestError as error:
        module.fail_json(msg=str(error))
    report(module, findings, **result)


if __name__ == "__main__":
    main()
