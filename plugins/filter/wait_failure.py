# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: wait_failure
short_description: The coded line a failed wait stops with, from what the cluster knows
version_added: 0.1.0
description:
  - Reads the last result of a C(kubernetes.core.k8s_info) wait (see
    P(edgeops.k8s_network.wait_status#filter)) and returns an empty string when the object is ready.
  - "Otherwise returns C([code] Kind namespace/name: state), where the state is what the API holds
    (absent, a kind the API server does not serve, or the desired and ready counts and the
    conditions with their reasons), followed by the timeout, the TigeraStatus conditions when given
    (the C(Degraded) reason and message) and the object's recent Events when given."
author:
  - edgeops maintainers
options:
  _input:
    description: The registered result of the C(kubernetes.core.k8s_info) wait.
    type: dict
    required: true
  code:
    description: The finding code the line starts with (C(calico_not_ready), ...).
    type: str
    required: true
  kind:
    description: The kind waited for.
    type: str
    required: true
  name:
    description: The name of the object waited for.
    type: str
    required: true
  namespace:
    description: Its namespace; empty for a cluster-wide object.
    type: str
  api_version:
    description: Its apiVersion, named when the API server does not serve it.
    type: str
  timeout:
    description: The seconds the role waited.
    type: int
  timeout_var:
    description: The role variable that sets the timeout, named in the line.
    type: str
  events:
    description: Event objects, or k8s_info results of them; those about this object are shown, newest last.
    type: list
    elements: raw
  tigerastatus:
    description: TigeraStatus objects, or the k8s_info result of them.
    type: raw
  hint:
    description: A sentence added after the state (where to look next).
    type: str
"""

EXAMPLES = r"""
- name: Stop when calico-node is not ready, saying why
  ansible.builtin.fail:
    msg: "{{ calico_node_wait | edgeops.k8s_network.wait_failure(code='calico_not_ready', kind='DaemonSet',
             name='calico-node', namespace='calico-system', timeout=600, timeout_var='calico_ready_timeout',
             events=[calico_node_events], tigerastatus=calico_tigerastatus) }}"
  when: not (calico_node_wait | edgeops.k8s_network.wait_status('DaemonSet')).ready
"""

RETURN = r"""
_value:
  description: The failure line, or an empty string when the object is ready.
  type: str
"""

from ansible_collections.edgeops.k8s_network.plugins.module_utils import readiness


def wait_failure(result, code, kind, name, namespace=None, api_version=None, timeout=None,
                 timeout_var=None, events=None, tigerastatus=None, hint=None):
    """The coded failure line of a wait, or ``""`` when the object is ready."""
    return readiness.wait_failure(result, code, kind, name, namespace=namespace or None,
                                  api_version=api_version, timeout=timeout, timeout_var=timeout_var,
                                  events=events, tigerastatus=tigerastatus, hint=hint or None)


class FilterModule(object):
    def filters(self):
        return {"wait_failure": wait_failure}
