#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: site_bundle
short_description: Complete a site bundle with the release manifests, its image list, a kustomization and a README
version_added: 0.1.0
description:
  - Writes into the bundle folder the site's own files (I(site_files)), then the upstream release manifests that
    M(edgeops.k8s_network.release_manifests) verified, numbered before the configuration that needs
    their resource definitions (C(10-calico-operator-crds.yaml), C(11-tigera-operator.yaml) or
    C(10-calico.yaml), C(30-metallb-native.yaml)). Each is checked against its pin again as it is copied.
  - Calico's C(calico.yaml) (manifest install) is written with the site's pod MTU, node address method
    and default pool, as M(edgeops.k8s_network.calico_config) customises it for apply mode.
  - Writes C(images.txt) (every image the manifests name, and those the version tables list for the
    releases, such as the ones the Tigera operator deploys), C(kustomization.yaml) listing every
    C(NN-*.yaml) file of the folder in name order, and C(README.md) with the install command, the
    releases and their sha256, and the files that are missing, with URL and sha256.
  - Release files in the folder that I(manifests) does not give are removed (those of another install
    mode, or copies that are not the pinned file); M(edgeops.k8s_network.release_manifests) with
    I(bundle_dir) takes a copy that is the pinned file as at hand.
  - Only what changes is written, so re-rendering the same settings leaves every file as it was.
  - "Runs in the controller's Python through the collection's action plugin of the same name when
    I(dest) is on the controller (C(delegate_to: localhost)) and the file options are I(mode),
    I(owner) and I(group); otherwise it runs as an ordinary module on the task's host."
author:
  - edgeops maintainers (@edgeops)
options:
  dest:
    description: The bundle folder.
    type: path
    required: true
  manifests:
    description: The C(manifests) result of M(edgeops.k8s_network.release_manifests); an entry without C(path) is missing.
    type: list
    elements: dict
    default: []
  calico:
    description:
      - The result of M(edgeops.k8s_network.calico_config) for the site (its C(mtu),
        C(ip_autodetection_method) and C(pool)), to customise C(calico.yaml).
    type: dict
    default: {}
  images:
    description: Images to list beside those the manifests name (the C(images) result of M(edgeops.k8s_network.release_manifests)).
    type: list
    elements: str
    default: []
  site_files:
    description:
      - The site's own files, written first and exactly as M(edgeops.k8s_network.bundle_file) writes them,
        so that one task writes the whole bundle (C(playbooks/render.yml)).
    type: list
    elements: dict
    default: []
    suboptions:
      file:
        description: The file's name in the bundle, for example C(20-calico.yaml).
        type: str
        required: true
      resources:
        description: The rendered objects, in apply order, one YAML document each.
        type: list
        elements: dict
        required: true
      header:
        description: Comment lines written before the objects, as M(edgeops.k8s_network.bundle_file)'s I(header).
        type: str
        default: ""
extends_documentation_fragment:
  - ansible.builtin.files
notes:
  - Supports check mode and diff mode; the diff of a release manifest shows its sha256, not its text.
"""

EXAMPLES = r"""
- name: Complete the bundle
  edgeops.k8s_network.site_bundle:
    dest: /srv/bundle/site-1
    manifests: "{{ releases.manifests }}"
    images: "{{ releases.images }}"
    calico: "{{ calico_rendered }}"
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
findings:
  description: A bundle file refused (C(dest_symlink_escapes), C(dest_not_regular_file), C(dest_unwritable)), as M(edgeops.k8s_network.bundle_file) reports it.
  returned: always
  type: list
  elements: dict
files:
  description: The bundle's manifests in apply order.
  returned: always
  type: list
  elements: str
  sample: [10-calico-operator-crds.yaml, 11-tigera-operator.yaml, 20-calico.yaml, 30-metallb-native.yaml]
missing:
  description: Release files that are not in the bundle, each C({file, url, sha256}); the bundle does not install the site yet.
  returned: always
  type: list
  elements: dict
images:
  description: The lines of C(images.txt).
  returned: always
  type: list
  elements: str
install_command:
  description: The command that applies the bundle, run in its folder.
  returned: always
  type: str
summary:
  description: What a run shows, line by line; the bundle's folder, files, install command and missing files.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.edgeops.k8s_network.plugins.module_utils import manifest_file
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import report
from ansible_collections.edgeops.k8s_network.plugins.module_utils.site_bundle import bundle_run

ARGUMENT_SPEC = dict(
    dest=dict(type="path", required=True),
    manifests=dict(type="list", elements="dict", default=[]),
    calico=dict(type="dict", default={}),
    images=dict(type="list", elements="str", default=[]),
    site_files=dict(type="list", elements="dict", default=[], options=dict(
        file=dict(type="str", required=True),
        resources=dict(type="list", elements="dict", required=True),
        header=dict(type="str", default=""),
    )),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, add_file_common_args=True)
    if not manifest_file.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=manifest_file.YAML_IMPORT_ERROR)
    try:
        result, findings = bundle_run(module.params, module, module._diff)
    except manifest_file.ManifestError as error:
        module.fail_json(msg=str(error))
    report(module, findings, **result)


if __name__ == "__main__":
    main()
