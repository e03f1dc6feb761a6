# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: wait_status
short_description: Whether the object a k8s_info read returned is ready, for an until loop
version_added: 0.1.0
description:
  - Reads the result of a C(kubernetes.core.k8s_info) task that looks up one object, and says
    whether it is ready and whether waiting longer can help.
  - Ready means, for a C(Deployment), every replica updated and available for the latest
    generation and its C(Available) condition true; for a C(DaemonSet), at least one pod wanted and
    every wanted pod updated, ready and available for the latest generation; for a
    C(CustomResourceDefinition), C(Established); for a webhook configuration, a CA bundle in every
    webhook; for any other kind, a true C(Ready) or C(Available) condition.
  - An object that is absent is not ready; a kind the API server does not serve (C(api_found) false)
    is settled, since polling cannot make it appear.
author:
  - edgeops maintainers
options:
  _input:
    description: The registered result of a C(kubernetes.core.k8s_info) task.
    type: dict
    required: true
  kind:
    description: The kind that was read.
    type: str
    required: true
  api_version:
    description: Its apiVersion, named when the API server does not serve it.
    type: str
seealso:
  - plugin: edgeops.k8s_network.wait_failure
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Wait for calico-node, showing each attempt
  kubernetes.core.k8s_info:
    api_version: apps/v1
    kind: DaemonSet
    namespace: calico-system
    name: calico-node
  register: calico_node_wait
  until: (calico_node_wait | edgeops.k8s_network.wait_status('DaemonSet', 'apps/v1')).settled
  retries: 60
  delay: 10
  failed_when: false
"""

RETURN = r"""
_value:
  description: What the read says.
  type: dict
  contains:
    ready:
      description: The object exists and is ready.
      type: bool
    settled:
      description: Ready, or its kind is unknown to the API server; stop polling.
      type: bool
    found:
      description: The object exists.
      type: bool
    api_found:
      description: The API server serves the kind.
      type: bool
    state:
      description: The object's state in words (counts, conditions), or why it was not read.
      type: str
"""

from ansible_collections.edgeops.k8s_network.plugins.module_utils import readiness


def wait_status(result, kind, api_version=None):
    """``{ready, settled, found, api_found, state}`` of a k8s_info result."""
    return readiness.wait_status(result, kind, api_version)


class FilterModule(object):
    def filters(self):
        return {"wait_status": wait_status}
