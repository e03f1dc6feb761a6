#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: coredns_config
short_description: Render the CoreDNS Corefile of an edge Kubernetes site
version_added: 0.1.0
description:
  - Renders the Corefile of the cluster's CoreDNS and the C(coredns) ConfigMap that carries it.
  - With I(strategy=merge) it edits the live Corefile given in I(corefile) and changes only what this
    collection manages; every other line and comment stays as it was, and running it again on its own
    output gives the same text. Managed are the upstreams of the root zone (C(forward . ...) in the
    C(.:53) block, its options kept), one server block per stub domain
    (C(zone:53 { errors, cache 30, forward . servers })), and inline entries of a C(hosts) block with
    C(fallthrough) in the C(.:53) block, and in the block of each stub domain whose zone holds one of the
    names (CoreDNS hands a query to the block with the longest matching zone, so the root block never
    sees those names). Blocks this module creates carry the comment line
    C(managed by edgeops.k8s_network), and are removed again when their stub domain or every host
    entry is dropped. In a C(hosts) block the user wrote (such as k3s's C(NodeHosts)), only the given
    names are rewritten.
  - With I(strategy=replace), or when I(corefile) is empty, it starts from the Corefile kubeadm writes
    for I(cluster_domain), that of I(kubernetes_version) when given.
  - Refuses a Corefile that CoreDNS would not start with or that would break cluster DNS, with a coded
    finding each (see the notes); nothing is written then and the task fails.
  - The Corefile parser is lossless, and reads server blocks with several zones, schemes and ports,
    nested blocks, comments, quoted strings, environment placeholders, snippets and C(import).
  - Pure computation; run it once per cluster on the controller (C(delegate_to=localhost), C(run_once)).
author:
  - edgeops maintainers (@edgeops)
options:
  corefile:
    description:
      - The live Corefile (the C(Corefile) key of the C(coredns) ConfigMap). When empty, the kubeadm
        default for I(cluster_domain) is used.
    type: str
  corefile_live:
    description:
      - Whether I(corefile) is the Corefile CoreDNS runs now (read from the cluster). Set it to false for
        a Corefile that runs nowhere yet and only serves as the base, such as the one an operator gives
        for a bundle (the C(coredns) role's C(coredns_corefile)).
      - Against a live Corefile a different rendering is a change (C(changed)), and the diff calls it
        C(live). Against a given one nothing changes until I(dest) is written, and the diff calls it
        C(given).
    type: bool
    default: true
  cluster_domain:
    description:
      - Cluster DNS domain. Defaults to C(cluster_domain) of I(compute_network), else C(cluster.local).
      - With I(strategy=merge) the live Corefile keeps its own domain; a Corefile that does not serve
        this domain with the C(kubernetes) plugin is refused.
    type: str
  forwarders:
    description:
      - Upstream DNS servers for names outside the cluster (the root zone's C(forward)), as IP addresses,
        C(IP:port), C([IPv6]:port), optionally behind C(dns://) or C(tls://). At most 15; loopback refused.
      - Defaults to C(dns_servers) of I(compute_network). When neither is set, the live upstreams stay
        (kubeadm's C(/etc/resolv.conf)).
      - A comma-separated string is accepted.
    type: list
    elements: str
  stub_domains:
    description:
      - "Zones answered by their own DNS servers, as C({zone: [servers]}); a comma-separated string of
        servers is accepted too. Each becomes a server block of its own."
      - Stub blocks this module created earlier and whose zone is no longer listed are removed.
    type: dict
  hosts:
    description:
      - Fixed names, answered by the C(hosts) plugin in the root zone before the upstreams are asked.
      - A name inside a stub domain's zone is also written into that stub's server block, the one CoreDNS
        sends the query to. A name that another server block of the live Corefile takes (one not listed in
        I(stub_domains)) is refused with C(hosts_name_shadowed).
      - The managed C(hosts) block reads the file C(/dev/null), so only these entries are served. Without a
        file argument the plugin reads C(/etc/hosts) of the CoreDNS container (kubelet's file with
        C(localhost) and the pod's own name, or the node's file in a C(hostNetwork) pod) and serves it to the
        whole cluster. A C(hosts) block written by hand keeps its own file.
    type: list
    elements: dict
    suboptions:
      ip:
        description: The address the names resolve to.
        type: str
        required: true
      names:
        description: Fully qualified names; a comma- or space-separated string is accepted.
        type: list
        elements: str
        required: true
  kubernetes_version:
    description:
      - The Kubernetes release of the cluster, such as C(v1.31.4), to start from the default Corefile of
        that release's kubeadm when there is no live Corefile (bundle mode) or with I(strategy=replace).
        kubeadm v1.21 to v1.31 write a plain C(cache 30); v1.32 and later keep the cluster domain out of
        the cache (C(cache 30 { disable success ...; disable denial ... })).
      - When absent, the current kubeadm's default. A live I(corefile) is the base whatever this is.
      - Releases older than v1.21 are refused (C(coredns_kubernetes_version_unsupported)); give the live
        Corefile instead.
    type: str
  strategy:
    description:
      - C(merge) edits I(corefile) and keeps every line this collection does not manage.
      - C(replace) renders the kubeadm default for I(cluster_domain) plus the managed settings, and
        drops every other customisation of the live Corefile.
    type: str
    choices: [merge, replace]
    default: merge
  namespace:
    description:
      - Namespace of the ConfigMap.
    type: str
    default: kube-system
  configmap_name:
    description:
      - Name of the ConfigMap CoreDNS mounts.
    type: str
    default: coredns
  compute_network:
    description:
      - The C(compute_network) result of M(edgeops.k8s_network.compute_network_check). Supplies the
        defaults of I(cluster_domain) and I(forwarders), so that a playbook needs no glue.
      - Its C(pod_cidr) and C(service_cidr) are the cluster's reverse zones; a stub domain covering them
        is refused (C(stub_domain_reverse_overlap)).
    type: dict
  dest:
    description:
      - File to write the ConfigMap to, as YAML. Written only when its text changes.
    type: path
extends_documentation_fragment:
  - ansible.builtin.files
  - edgeops.k8s_network.renderer
notes:
  - "Finding codes: C(corefile_syntax), C(corefile_unbalanced_braces), C(corefile_duplicate_snippet),
    C(corefile_invalid_address), C(corefile_duplicate_server), C(corefile_unknown_directive),
    C(corefile_legacy_directive) (warning), C(corefile_directive_repeated), C(corefile_no_root_server),
    C(forward_no_upstream), C(forward_invalid_upstream), C(forward_too_many_upstreams),
    C(dns_server_loopback), C(hosts_without_fallthrough), C(hosts_entry_after_fallthrough),
    C(cluster_domain_not_served), C(cluster_domain_invalid), C(stub_domain_invalid),
    C(hosts_entry_invalid), C(coredns_compute_network_invalid), C(hosts_name_shadowed),
    C(stub_domain_reverse_overlap), C(coredns_kubernetes_version_invalid),
    C(coredns_kubernetes_version_unsupported), C(hosts_in_cluster_domain), C(corefile_too_deep),
    C(coredns_name_invalid), C(dest_symlink_escapes), C(dest_not_regular_file), C(dest_unwritable),
    C(file_too_large)."
  - CoreDNS has no dry-run mode, so these checks are the last line of defence. A Corefile that the
    C(reload) plugin refuses silently becomes a CrashLoopBackOff at the next pod restart.
requirements:
  - PyYAML (for I(dest))
attributes:
  diff_mode:
    support: full
    description: The live and rendered Corefile, and with I(dest) the old and new file text.
"""

EXAMPLES = r"""
- name: Point the live Corefile at the site DNS servers (no glue from the check needed)
  edgeops.k8s_network.coredns_config:
    compute_network: "{{ site.compute_network }}"
    corefile: "{{ live.resources[0].data.Corefile }}"
  delegate_to: localhost
  run_once: true
  register: coredns

- name: A stub domain and two fixed names, written into a bundle
  edgeops.k8s_network.coredns_config:
    cluster_domain: cluster.local
    forwarders: 192.168.10.2, 192.168.10.3
    stub_domains:
      site.example: [10.20.0.53, 10.20.0.54]
    hosts:
      - ip: 10.20.1.10
        names: [plc-01.site.example]
      - ip: 10.20.1.11
        names: hmi-01.site.example, hmi.site.example
    dest: /srv/bundle/50-coredns.yaml
    mode: "0644"
  delegate_to: localhost
  run_once: true

- name: Start afresh from the kubeadm default
  edgeops.k8s_network.coredns_config:
    strategy: replace
    cluster_domain: edge.local
    forwarders: [192.168.10.2]
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
corefile:
  description: The rendered Corefile.
  returned: success
  type: str
  sample: ".:53 {\n    errors\n    ...\n}\n"
resources:
  description: The ConfigMap carrying the Corefile, ready for M(kubernetes.core.k8s).
  returned: success
  type: list
  elements: dict
  sample: [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": ".:53 {\n    errors\n    ...\n}\n"}}]
corefile_diff:
  description: Unified diff from I(corefile), labelled C(live) or C(given) after I(corefile_live), to the rendered
    Corefile; empty when they are equal or no I(corefile) was given.
  returned: success
  type: str
  sample: "--- Corefile (live)\n+++ Corefile (rendered)\n@@ -12 +12 @@\n-    forward . /etc/resolv.conf\n+    forward . 10.0.0.2\n"
findings:
  description: Every problem found, each C({code, severity, field, message}); see the notes for the codes.
  returned: always
  type: list
  elements: dict
  sample: [{"code": "dns_server_loopback", "severity": "error", "field": "forwarders",
            "message": "127.0.0.53 is a loopback address: CoreDNS's loop plugin would stop the pod"}]
dest:
  description: The file written, absolute.
  returned: when I(dest) is set
  type: str
  sample: /srv/bundle/50-coredns.yaml
"""

from ansible_collections.edgeops.k8s_network.plugins.module_utils import coredns, manifest_file
from ansible_collections.edgeops.k8s_network.plugins.module_utils.arguments import ansible_module
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import report

ARGUMENT_SPEC = dict(
    corefile=dict(type="str"),
    corefile_live=dict(type="bool", default=True),
    cluster_domain=dict(type="str"),
    forwarders=dict(type="list", elements="str"),
    stub_domains=dict(type="dict"),
    hosts=dict(type="list", elements="dict", options=dict(
        ip=dict(type="str", required=True),
        names=dict(type="list", elements="str", required=True),
    )),
    kubernetes_version=dict(type="str"),
    strategy=dict(type="str", choices=["merge", "replace"], default="merge"),
    namespace=dict(type="str", default="kube-system"),
    configmap_name=dict(type="str", default="coredns"),
    compute_network=dict(type="dict"),
    dest=dict(type="path"),
)


def main():
    module = ansible_module(ARGUMENT_SPEC, supports_check_mode=True, add_file_common_args=True)
    manifest_file.require_libraries(module, yaml_needed=bool(module.params["dest"]))
    result, findings = coredns.config_run(module.params, module, module._diff)
    report(module, findings, **result)


if __name__ == "__main__":
    main()
