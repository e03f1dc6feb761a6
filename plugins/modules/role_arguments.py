#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: role_arguments
short_description: Check the arguments of several of the collection's roles at once, before any of them runs
version_added: 0.2.0
description:
  - A role checks its arguments only when it starts, after the roles before it have written or applied.
    This checks the variables of the play against the argument spec of each role named in I(roles) (the
    role's C(meta/argument_specs.yml) in this collection, entry point C(main)), exactly as the role's own
    check will, and fails with every refused argument of every role, joined, as C(role_argument_invalid).
  - "Runs on the controller only, as an action plugin: it reads the play's variables, which a module
    cannot see."
author:
  - edgeops maintainers (@edgeops)
options:
  roles:
    description: Roles of this collection (C(calico), C(metallb), C(coredns), C(verify)), in the order they run.
    type: list
    elements: str
    required: true
attributes:
  action:
    support: full
    description: Runs as an action plugin on the controller.
notes:
  - Supports check mode; it is the same in check mode.
"""

EXAMPLES = r"""
- name: Check the arguments of every role before anything is written or applied
  edgeops.k8s_network.role_arguments:
    roles: [calico, metallb, coredns, verify]
"""

RETURN = r"""
argument_errors:
  description: Every refused argument, role by role, in the words of the role's own argument check.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(roles=dict(type="list", elements="str", required=True)),
                           supports_check_mode=True)
    module.fail_json(msg="role_arguments runs on the controller through its action plugin: it needs the play's variables")


if __name__ == "__main__":
    main()
