# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: loadbalancer_ips
short_description: The IPs assigned to LoadBalancer Services, from a k8s_info result
version_added: 0.1.0
description:
  - Takes the result of M(kubernetes.core.k8s_info) for C(kind=Service) (a mapping with
    C(resources)), a list of Service objects, or one Service object, and returns the addresses
    the load balancer (MetalLB) has assigned, that is C(status.loadBalancer.ingress[].ip) of every
    Service of C(spec.type=LoadBalancer). The selection is a JMESPath query.
  - Services still pending (no ingress yet) and ingress entries with only a C(hostname) give no address.
    Objects whose C(kind) is set to anything but C(Service) are skipped.
  - By default the result is a list of addresses, each once, in the order met (Services may share an
    address through MetalLB's C(allow-shared-ip)).
  - With I(detail=true) the result is one C({namespace, name, ip}) mapping per assigned address of each
    Service, the form that the C(assigned) option of M(edgeops.k8s_network.metallb_config) takes.
  - Fails with a message that starts with C(invalid_k8s_result) when the input is neither a
    k8s_info result nor Service objects, or when the k8s_info task itself failed.
author:
  - edgeops maintainers
options:
  _input:
    description:
      - A registered M(kubernetes.core.k8s_info) result, a list of Service objects, or one Service object.
    type: raw
    required: true
  detail:
    description:
      - Return C({namespace, name, ip}) mappings instead of bare addresses.
    type: bool
    default: false
requirements:
  - jmespath
seealso:
  - module: kubernetes.core.k8s_info
  - module: edgeops.k8s_network.metallb_config
"""

EXAMPLES = r"""
- name: Read every Service of the cluster
  kubernetes.core.k8s_info:
    kind: Service
  register: services

- name: Addresses MetalLB has handed out
  ansible.builtin.debug:
    msg: "{{ services | edgeops.k8s_network.loadbalancer_ips }}"
  # => ['192.168.10.20', '192.168.10.21']

- name: Every assigned address lies in the external service IPs
  ansible.builtin.assert:
    that:
      - compute_network_external_service_ips
        | edgeops.k8s_network.ip_range_contains(services | edgeops.k8s_network.loadbalancer_ips)

- name: Services and their addresses
  ansible.builtin.debug:
    msg: "{{ services | edgeops.k8s_network.loadbalancer_ips(detail=true) }}"
  # => [{namespace: shop, name: web, ip: 192.168.10.20}, {namespace: shop, name: api, ip: 192.168.10.21}]

- name: New pools must keep every address in use (metallb_config fails on an orphan)
  edgeops.k8s_network.metallb_config:
    pools:
      - name: default
        addresses: "{{ compute_network_external_service_ips }}"
    assigned: "{{ services | edgeops.k8s_network.loadbalancer_ips(detail=true) }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - The assigned addresses, or with I(detail=true) mappings with keys C(namespace), C(name) and C(ip).
  type: list
  elements: raw
"""

import traceback
from collections.abc import Mapping

try:
    import jmespath
except ImportError:
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six import string_types

# Objects listed without a kind (k8s_info drops it on list items) are taken as Services.
_LOAD_BALANCERS = "[?spec.type == 'LoadBalancer' && (kind == null || kind == 'Service')]"
IPS_QUERY = _LOAD_BALANCERS + ".status.loadBalancer.ingress[].ip"
DETAIL_QUERY = _LOAD_BALANCERS + ".{namespace: metadata.namespace, name: metadata.name, ips: status.loadBalancer.ingress[].ip}"


# A Service object nests a dozen levels; far deeper input is no k8s_info result, and would exhaust
# the stack of the copy below and of JMESPath.
MAX_DEPTH = 64


def _plain(value, depth=0):
    """Plain dicts, lists and strs: Ansible hands filters its own subclasses (tagged, lazy)."""
    if depth > MAX_DEPTH:
        raise AnsibleFilterError("invalid_k8s_result: nested deeper than %d levels; not a Kubernetes object" % MAX_DEPTH)
    if isinstance(value, Mapping):
        return dict((str(k), _plain(v, depth + 1)) for k, v in value.items())
    if isinstance(value, string_types):
        return str(value)
    if is_sequence(value):
        return [_plain(v, depth + 1) for v in value]
    return value


def _services(value):
    """The list of objects in a k8s_info result, a list of objects, or one object."""
    if isinstance(value, Mapping):
        if value.get("failed"):
            raise AnsibleFilterError(
                "invalid_k8s_result: the k8s_info task failed: %s" % value.get("msg", "no message"))
        if "resources" in value:
            value = value["resources"]
        elif "metadata" in value or "spec" in value:
            value = [value]
        else:
            raise AnsibleFilterError(
                "invalid_k8s_result: expected a k8s_info result (with 'resources') or a Service object, "
                "got a mapping with keys %s" % ", ".join(sorted(str(k) for k in value)))
    if value is None:
        return []
    if isinstance(value, string_types) or not is_sequence(value):
        raise AnsibleFilterError(
            "invalid_k8s_result: expected a k8s_info result or a list of Service objects, got %s"
            % type(value).__name__)
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise AnsibleFilterError(
                "invalid_k8s_result: item %d is a %s, not a Kubernetes object" % (index, type(item).__name__))
    return _plain(value)


def loadbalancer_ips(value, detail=False):
    """Assigned LoadBalancer ingress IPs of the Services in ``value``."""
    if not HAS_JMESPATH:
        raise AnsibleFilterError("loadbalancer_ips needs the Python library jmespath on the controller (pip install jmespath)")
    try:
        detail = boolean(detail, strict=True)
    except TypeError as error:
        raise AnsibleFilterError("invalid_option: detail: %s" % error)
    services = _services(value)
    if not detail:
        seen = set()
        result = []
        for ip in jmespath.search(IPS_QUERY, services) or []:
            if ip not in seen:
                seen.add(ip)
                result.append(ip)
        return result
    result = []
    for service in jmespath.search(DETAIL_QUERY, services) or []:
        for ip in service["ips"] or []:
            result.append({"namespace": service["namespace"], "name": service["name"], "ip": ip})
    return result


class FilterModule(object):
    def filters(self):
        return {"loadbalancer_ips": loadbalancer_ips}
