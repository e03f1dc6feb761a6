# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""compute_network_gate: a node stops with its cluster's refusal, or a cluster's leader joins its group."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LEADERS_GROUP = "k8s_network_cluster_leaders"


def gate_outcome(params):
    """What compute_network_gate reports: a refusal as the failure's message, else the leader's group."""
    if params.get("refusal"):
        return {"changed": False, "failed": True, "msg": params["refusal"]}
    result = {"changed": False}
    if params.get("leader"):
        group = (params.get("group") or LEADERS_GROUP).replace(" ", "-")
        if params.get("subgroup"):
            # One group a host joins per task: the subgroup, inside the leaders' group.
            result.update(add_group=params["subgroup"].replace(" ", "-"), parent_groups=[group])
        else:
            result.update(add_group=group, parent_groups=["all"])
    return result
