# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What AWX hands a job as its inventory, for the tests: the script it writes to the private
data dir's inventory/hosts, and what that script prints for one slice of a sliced job.

Written from AWX's Inventory.get_script_data and BaseTask.write_inventory_file (awx/main): the
inventory's enabled hosts are ordered by name and a slice takes every slice_count-th of them,
starting at its own number; every group is kept, with its variables and child groups, but
lists only the slice's hosts; hosts in no group go under `all`; the inventory's own variables
are `all`'s. The inventory itself is what an import of `ansible-inventory --list --export` gives.
"""

import json
import os
import subprocess
import sys

SKIPPED_GROUPS = ("all", "ungrouped", "_meta")


def export(inventory):
    """`ansible-inventory --list --export` of an inventory source: its groups and variables, untemplated."""
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", inventory, "--list", "--export"]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def hostnames(exported):
    names = set(exported.get("_meta", {}).get("hostvars", {}))
    for group in exported.values():
        names.update(group.get("hosts", []) if isinstance(group, dict) else [])
    return sorted(names)


def script_data(exported, slice_number=1, slice_count=1):
    """What the inventory script of the job running slice `slice_number` of `slice_count` prints."""
    every = hostnames(exported)
    hosts = every[slice_number - 1::slice_count] if slice_count > 1 else every
    data = {"all": {}}
    if exported.get("all", {}).get("vars"):
        data["all"]["vars"] = exported["all"]["vars"]
    grouped = set()
    groups = [name for name in exported if name not in SKIPPED_GROUPS]
    for name in groups:
        group, info = exported[name], {}
        members = [h for h in group.get("hosts", []) if h in hosts]
        grouped.update(members)
        for key, value in (("hosts", members), ("children", group.get("children")), ("vars", group.get("vars"))):
            if value:
                info[key] = value
        if info:
            data[name] = info
    data["all"]["hosts"] = [h for h in hosts if h not in grouped]
    data["all"]["children"] = groups
    hostvars = exported.get("_meta", {}).get("hostvars", {})
    data["_meta"] = {"hostvars": dict(
        (host, dict(hostvars.get(host, {}), remote_tower_enabled="true", remote_tower_id=every.index(host) + 1))
        for host in hosts)}
    return data


def script(data):
    """The executable inventory/hosts AWX writes: a Python script that prints the data."""
    return "#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n" % json.dumps(data)
