#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compute_network_gate
short_description: Stop a node whose cluster cannot go on, or put a cluster's leader in its group
version_added: 0.2.0
description:
  - The last step of the C(compute_network) role on each node, in one task. With a I(refusal), the node
    fails with it as the message (a cluster whose check did not pass, or that the run holds only part of);
    otherwise a cluster's leader (I(leader)) joins the group I(group), as M(ansible.builtin.group_by) would
    put it there, and any other node goes on unchanged.
  - Changes nothing outside the run's inventory in memory.
  - "Runs in the controller's Python through the collection's action plugin of the same name: no module
    process is started."
author:
  - edgeops maintainers (@edgeops)
options:
  refusal:
    description: Why this node stops, as the task's message; empty to go on.
    type: str
    default: ""
  leader:
    description: Whether this node is its cluster's leader, which joins I(group).
    type: bool
    default: false
  group:
    description: The group of the clusters' leaders, on which the plays that follow run each cluster once.
    type: str
    default: k8s_network_cluster_leaders
  subgroup:
    description:
      - A group inside I(group) that the leader joins instead, so that it is in both. Plays that only some
        clusters need run on it, for example the leaders of the sites written as a bundle.
    type: str
notes:
  - Supports check mode; it is the same in check mode.
"""

EXAMPLES = r"""
- name: Stop the nodes of a refused cluster; put each cluster's leader in k8s_network_cluster_leaders
  edgeops.k8s_network.compute_network_gate:
    refusal: "{{ compute_network_incomplete }}"
    leader: "{{ inventory_hostname == compute_network_cluster_nodes[0] }}"
"""

RETURN = r"""
add_group:
  description: The group the leader joins (Ansible adds the host to it).
  returned: when I(leader) is true and there is no I(refusal)
  type: str
  sample: k8s_network_cluster_leaders
parent_groups:
  description: The group's parents, C([all]), or I(group) for a I(subgroup).
  returned: when I(leader) is true and there is no I(refusal)
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeops.k8s_network.plugins.module_utils.cluster_gate import gate_outcome

ARGUMENT_SPEC = dict(
    refusal=dict(type="str", default=""),
    leader=dict(type="bool", default=False),
    group=dict(type="str", default="k8s_network_cluster_leaders"),
    subgroup=dict(type="str"),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = gate_outcome(module.params)
    if result.get("failed"):
        module.fail_json(**dict((k, v) for k, v in result.items() if k != "failed"))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
