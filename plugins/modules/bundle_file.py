#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: bundle_file
short_description: Write rendered Kubernetes objects into a file of a bundle
version_added: 0.2.0
description:
  - Writes the objects a renderer (M(edgeops.k8s_network.calico_config),
    M(edgeops.k8s_network.metallb_config), M(edgeops.k8s_network.coredns_config)) has already
    returned as one multi-document YAML file, written exactly as the renderer's own I(dest) would
    write it. A site is rendered once, checked as a whole, and only then written.
  - Writes only when the text differs, atomically (a temporary file next to I(dest), renamed over
    it), so C(changed) is honest; supports check mode and C(--diff).
  - "Runs in the controller's Python through the collection's action plugin of the same name when
    I(dest) is on the controller (C(delegate_to: localhost)) and the file options are I(mode),
    I(owner) and I(group); otherwise it runs as an ordinary module on the task's host."
author:
  - edgeops maintainers (@edgeops)
options:
  dest:
    description:
      - The file to write. Its folder is created when missing.
    type: path
    required: true
  resources:
    description:
      - The objects to write, in apply order, one YAML document each.
    type: list
    elements: dict
  content:
    description:
      - Text to write as it is, for a manifest templated elsewhere.
    type: str
  header:
    description:
      - Comment lines written before the objects (each line not starting with C(#) gets C(# ) put before it),
        such as the C(secrets_notice) of M(edgeops.k8s_network.metallb_config).
    type: str
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing.
  diff_mode:
    support: full
    description: Shows the old and new text of I(dest).
notes:
  - Exactly one of I(resources) and I(content) is needed.
  - A I(dest) that is a symbolic link leaving its folder, or that is not a regular file (a directory, a FIFO),
    is refused with C(dest_symlink_escapes) or C(dest_not_regular_file); an unwritable one with
    C(dest_unwritable), also in check mode, so a check-mode run tells ahead whether the write would go through.
requirements:
  - PyYAML
"""

EXAMPLES = r"""
- name: Render the Calico objects, writing nothing
  edgeops.k8s_network.calico_config:
    compute_network: "{{ compute_network }}"
  delegate_to: localhost
  register: calico

- name: Write them into the bundle
  edgeops.k8s_network.bundle_file:
    dest: /srv/bundle/20-calico.yaml
    resources: "{{ calico.resources }}"
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
dest:
  description: The file written, absolute.
  returned: always
  type: str
  sample: /srv/bundle/20-calico.yaml
diff:
  description: Old and new text of I(dest).
  returned: with --diff
  type: dict
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.edgeops.k8s_network.plugins.module_utils import manifest_file
from ansible_collections.edgeops.k8s_network.plugins.module_utils.arguments import ansible_module
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import report

ARGUMENT_SPEC = dict(
    dest=dict(type="path", required=True),
    resources=dict(type="list", elements="dict"),
    content=dict(type="str"),
    header=dict(type="str"),
)
VALIDATOR_OPTIONS = dict(mutually_exclusive=[["resources", "content"]], required_one_of=[["resources", "content"]])


def main():
    module = ansible_module(ARGUMENT_SPEC, supports_check_mode=True, add_file_common_args=True, **VALIDATOR_OPTIONS)
    if not manifest_file.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=manifest_file.YAML_IMPORT_ERROR)
    result, findings = manifest_file.file_run(module.params, module, module._diff)
    if findings:
        report(module, findings, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
