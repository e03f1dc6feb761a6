#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: verify_config
short_description: Render the two-tier verify app that shows the compute network at work
version_added: 0.2.0
description:
  - Renders, as Kubernetes objects in apply order, the app the C(verify) role deploys. A namespace, a database
    back end (Deployment and ClusterIP service C(verify-db)) and a web front end (ConfigMap, Deployment and
    LoadBalancer service C(verify-web)). The front end proxies I(db_port) to
    C(verify-db.<namespace>.svc.<cluster domain>), which it resolves through the cluster DNS address of
    I(compute_network).
  - The objects are built as data, never templated as text. Every setting is checked for what it becomes
    (namespace name, image references, ports, replica counts, the probe text that goes into a shell command),
    and a refused setting is a coded finding naming it.
  - "Pure computation on the controller (C(delegate_to: localhost)); only I(dest) is written, and only when
    its content changes."
author:
  - edgeops maintainers (@edgeops)
options:
  compute_network:
    description:
      - The C(compute_network) result of M(edgeops.k8s_network.compute_network_check). Its C(cluster_domain)
        and C(cluster_dns_ip) are used.
    type: dict
    required: true
  cluster_dns_ip:
    description:
      - The cluster DNS address the front end resolves the back end through. Empty takes
        C(compute_network.cluster_dns_ip), the tenth address of the service CIDR. The C(verify) role passes, in
        apply mode, the address of the cluster's live C(kube-system/kube-dns) Service.
    type: str
    default: ""
  namespace:
    description: Namespace of the app, a DNS-1123 label.
    type: str
    default: edgeops-verify
  db_image:
    description: Image of the back end.
    type: str
    default: docker.io/library/redis:7-alpine
  db_replicas:
    description: Back end pods, 1-100.
    type: int
    default: 2
  db_port:
    description: Port of the back end, and of the front end's proxy to it.
    type: int
    default: 6379
  db_probe_send:
    description:
      - What the role's checks send to the back end, as a C(printf) format. Printable ASCII without quotes,
        C($) or backquotes, since it goes into a shell command inside a pod.
    type: str
    default: 'PING\r\nQUIT\r\n'
  db_probe_expect:
    description: What the back end's answer must contain; printable ASCII.
    type: str
    default: +PONG
  web_image:
    description: Image of the front end, an nginx with the stream module.
    type: str
    default: docker.io/library/nginx:1.27-alpine
  web_replicas:
    description: Front end pods, 1-100.
    type: int
    default: 2
  web_port:
    description: HTTP port of the front end and of its service.
    type: int
    default: 80
  web_load_balancer_ip:
    description: Address to ask MetalLB for. Empty lets MetalLB pick.
    type: str
    default: ""
  dest:
    description:
      - Also write the objects, as multi-document YAML in apply order, to this file. It is written only when
        its content changes, and not at all when there is an error. A symbolic link that leaves its folder,
        or a path that is not a regular file, is refused.
    type: path
extends_documentation_fragment:
  - ansible.builtin.files
  - edgeops.k8s_network.renderer
notes:
  - "Finding codes: C(verify_namespace_invalid), C(verify_image_invalid), C(verify_port_invalid),
    C(verify_replicas_invalid), C(verify_probe_invalid), C(verify_load_balancer_ip_invalid),
    C(cluster_domain_invalid), C(invalid_address), C(dest_symlink_escapes), C(dest_not_regular_file),
    C(dest_unwritable), C(file_too_large). See docs/codes.md."
requirements:
  - PyYAML (for I(dest))
"""

EXAMPLES = r"""
- name: Write the verify app into a bundle
  edgeops.k8s_network.verify_config:
    compute_network: "{{ compute_network }}"
    namespace: edgeops-verify
    dest: /srv/bundle/90-verify.yaml
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
cluster_dns_ip:
  description: The cluster DNS address the front end resolves through.
  returned: when no finding is an error
  type: str
  sample: 10.96.0.10
resources:
  description: The objects, in apply order; empty when a finding is an error.
  returned: always
  type: list
  elements: dict
  sample: [{apiVersion: v1, kind: Namespace, metadata: {name: edgeops-verify}}]
findings:
  description: Every problem found, each C({code, severity, field, message}).
  returned: always
  type: list
  elements: dict
  sample: [{code: verify_namespace_invalid, severity: error, field: namespace,
            message: "'Verify' is not a valid namespace name"}]
dest:
  description: The file written, absolute.
  returned: when I(dest) is set
  type: str
  sample: /srv/bundle/90-verify.yaml
diff:
  description: Old and new text of I(dest).
  returned: when I(dest) is set, in diff mode
  type: dict
"""

from ansible_collections.edgeops.k8s_network.plugins.module_utils import manifest_file, verify
from ansible_collections.edgeops.k8s_network.plugins.module_utils.arguments import ansible_module
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import report

ARGUMENT_SPEC = dict(
    compute_network=dict(type="dict", required=True),
    cluster_dns_ip=dict(type="str", default=""),
    namespace=dict(type="str", default=verify.DEFAULTS["namespace"]),
    db_image=dict(type="str", default=verify.DEFAULTS["db_image"]),
    db_replicas=dict(type="int", default=verify.DEFAULTS["db_replicas"]),
    db_port=dict(type="int", default=verify.DEFAULTS["db_port"]),
    db_probe_send=dict(type="str", default=verify.DEFAULTS["db_probe_send"]),
    db_probe_expect=dict(type="str", default=verify.DEFAULTS["db_probe_expect"]),
    web_image=dict(type="str", default=verify.DEFAULTS["web_image"]),
    web_replicas=dict(type="int", default=verify.DEFAULTS["web_replicas"]),
    web_port=dict(type="int", default=verify.DEFAULTS["web_port"]),
    web_load_balancer_ip=dict(type="str", default=verify.DEFAULTS["web_load_balancer_ip"]),
    dest=dict(type="path"),
)


def main():
    module = ansible_module(ARGUMENT_SPEC, supports_check_mode=True, add_file_common_args=True)
    manifest_file.require_libraries(module, yaml_needed=bool(module.params["dest"]))
    result, findings = verify.config_run(module.params, module, module._diff)
    report(module, findings, **result)


if __name__ == "__main__":
    main()
