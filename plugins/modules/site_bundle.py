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
  - Writes into the bundle folder the upstream release manifests that
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

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.edgeops.k8s_network.plugins.module_utils import calico, manifest_file, releases

ARGUMENT_SPEC = dict(
    dest=dict(type="path", required=True),
    manifests=dict(type="list", elements="dict", default=[]),
    calico=dict(type="dict", default={}),
    images=dict(type="list", elements="str", default=[]),
)


def _release_text(module, entry):
    """The text of one verified release file as it goes into the bundle, and the objects in it."""
    with open(entry["path"], "rb") as handle:
        data = handle.read()
    problem = releases.check_content(entry, data, entry["path"])
    if problem is not None:
        module.fail_json(msg="[%s] %s: %s" % (problem["code"], problem["field"], problem["message"]))
    text = to_text(data, errors="surrogate_or_strict")
    objects = _objects_of(module, entry["path"])
    if entry["component"] == "calico" and entry["name"] == "calico.yaml":
        settings = module.params["calico"]
        objects = calico.customize_release_manifest(objects, settings.get("mtu"), settings.get("ip_autodetection_method"),
                                                    settings.get("pool"))
        text = manifest_file.dump_resources(objects)
    return text, objects


def _objects_of(module, path):
    try:
        with open(path, "rb") as handle:
            return [obj for obj in manifest_file.yaml.safe_load_all(handle) if obj]
    except (IOError, OSError, manifest_file.yaml.YAMLError) as error:
        module.fail_json(msg="[manifest_unreadable] %s: %s" % (path, error))


def _sha_summary(text):
    return "sha256 %s\n" % releases.sha256_hex(text.encode("utf-8")) if text else ""


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, add_file_common_args=True)
    if not manifest_file.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=manifest_file.YAML_IMPORT_ERROR)
    dest = os.path.abspath(module.params["dest"])

    # Read and check everything first: a bad file stops the run before anything is written.
    wanted, images, missing = {}, list(module.params["images"]), []
    entries = module.params["manifests"]
    for entry in entries:
        if not entry.get("path"):
            missing.append({"file": entry["bundle_name"], "url": entry["url"], "sha256": entry["sha256"]})
            continue
        text, objects = _release_text(module, entry)
        wanted[entry["bundle_name"]] = text
        images.extend(releases.images_in(objects))

    present = os.listdir(dest) if os.path.isdir(dest) else []
    stale = [name for name in present if releases.is_release_file(name) and name not in wanted]
    files = releases.bundle_files(set(present) - set(stale) | set(wanted))
    for name in files:
        if name not in wanted:  # the site's own configuration, written by the roles
            images.extend(releases.images_in(_objects_of(module, os.path.join(dest, name))))
    extra = {
        "images.txt": releases.images_text(images),
        "kustomization.yaml": releases.kustomization_text(files),
        "README.md": releases.readme_text(files, entries, [e for e in entries if not e.get("path")],
                                          images_incomplete=bool(missing)),
    }

    changed, diffs = False, []
    for name, text in sorted(wanted.items()) + sorted(extra.items()):
        path = os.path.join(dest, name)
        file_changed, diff = manifest_file.write_text(module, path, text)
        changed = changed or file_changed
        if file_changed and name in wanted:
            diff = dict(diff, before=_sha_summary(diff["before"]), after=_sha_summary(text))
        if file_changed:
            diffs.append(diff)
    for name in stale:
        path = os.path.join(dest, name)
        diffs.append({"before_header": path, "after_header": path, "before": "present\n", "after": "removed\n"})
        changed = True
        if not module.check_mode:
            os.remove(path)

    result = dict(changed=changed, files=files, missing=missing, images=extra["images.txt"].splitlines(),
                  install_command=releases.INSTALL_COMMAND,
                  summary=releases.summary_lines(os.path.realpath(dest), files, missing))
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
