#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_manifests
short_description: Fetch and verify every upstream release manifest of a site before anything is applied
version_added: 0.1.0
description:
  - Takes the release manifests of every component at once (Calico, MetalLB), so that all of them are
    at hand and verified before the first object goes to a cluster or into a bundle.
  - Each file is pinned by sha256. The pin is the operator's own checksum when given, else the one the
    component's version table in the collection lists for that version. A file with neither is refused
    with C(manifest_not_pinned), naming the version, the file, its URL and the variable to set.
  - A file comes from the component's folder (I(releases[].dir), for air-gapped sites), else from the
    download cache, else from I(bundle_dir), else from its URL (when I(download) is true). A file whose sha256 is not its pin is
    refused with C(manifest_checksum_mismatch), wherever it came from.
  - A file that cannot be had is an error (C(manifest_unavailable)) when I(required) is true (apply mode);
    otherwise a warning naming the file, its URL and its sha256, and it is returned in C(missing).
  - "Runs on the controller (C(delegate_to: localhost)). Writes only to I(cache_dir), also in check mode:
    the cache is the controller's, and a check run needs the file to show what applying it would do."
  - Runs in the controller's Python through the collection's action plugin of the same name while every
    file is at hand (its folder, the cache, the bundle); a download runs it as an ordinary module.
author:
  - edgeops maintainers (@edgeops)
options:
  releases:
    description: The releases to fetch, one per component.
    type: list
    elements: dict
    required: true
    suboptions:
      component:
        description: C(calico) or C(metallb); names the bundle files and the variables in messages.
        type: str
        required: true
      version:
        description: The release, for example C(v3.32.1).
        type: str
        required: true
      install:
        description: Whether the component is installed at all; its files are skipped when false.
        type: bool
        default: true
      files:
        description: The files of the release, in apply order.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: File name, for example C(operator-crds.yaml).
            type: str
            required: true
          sha256:
            description: The operator's own pin; empty means the version table's.
            type: str
            default: ""
          variable:
            description: The variable that sets I(sha256), named in messages.
            type: str
          url:
            description: Where to download the file; defaults to I(base_url)/I(name).
            type: str
      base_url:
        description: Where the release's files are downloaded from.
        type: str
        default: ""
      dir:
        description: A folder on the controller holding the files under their names (air-gapped sites).
        type: path
      table:
        description:
          - "The component's version table, C({version: {files: {name: sha256}, images: {name: [image]}}})."
          - C(images) lists, per file, images that come with it without being named in it (those the
            Tigera operator deploys).
        type: dict
        default: {}
  required:
    description: A file that cannot be had is an error (true) or a warning and an entry in C(missing) (false).
    type: bool
    default: true
  download:
    description: Download files that are neither in their folder nor in the cache.
    type: bool
    default: true
  cache_dir:
    description: Where downloads are kept on the controller.
    type: path
    default: ~/.cache/edgeops.k8s_network/manifests
  bundle_dir:
    description:
      - A bundle folder (M(edgeops.k8s_network.site_bundle)). A file it holds under its bundle name that is
        the pinned file (from an earlier render, or put there by hand) counts as at hand, before any download.
    type: path
  timeout:
    description: Seconds to wait for one download.
    type: int
    default: 30
  validate_certs:
    description: Check the TLS certificate of the download server.
    type: bool
    default: true
notes:
  - Supports check mode.
"""

EXAMPLES = r"""
- name: Fetch and verify Calico and MetalLB before anything is applied
  edgeops.k8s_network.release_manifests:
    releases:
      - component: calico
        version: v3.32.1
        base_url: https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests
        files:
          - {name: operator-crds.yaml, variable: calico_operator_crds_sha256}
          - {name: tigera-operator.yaml, variable: calico_tigera_operator_sha256}
        table: "{{ calico_releases }}"
      - component: metallb
        version: v0.16.1
        dir: /srv/manifests/metallb
        files:
          - {name: metallb-native.yaml, variable: metallb_manifest_sha256}
        table: "{{ metallb_releases }}"
  delegate_to: localhost
  register: releases
"""

RETURN = r"""
manifests:
  description:
    - One entry per file, in apply order; C(path) is the verified copy on the controller, or null.
    - C(objects), only where the roles apply a file otherwise than as it is, holds its objects as they
      are applied. A Namespace that says nothing but its name declares the C(kubernetes.io/metadata.name)
      label the API server gives it, and a Secret that says nothing but its name declares the type
      C(Opaque) the server gives it, so that the field manager owns a field of it and a second identical
      apply writes nothing (owning none, the next apply would record the object's fields under
      C(before-first-apply), moving its resourceVersion; MetalLB's controller fills its release's empty
      webhook certificate Secret, so every apply moved it).
  returned: always
  type: list
  elements: dict
  sample: [{component: calico, version: v3.32.1, name: operator-crds.yaml, sha256: 192f8b2d...,
            pin: table, variable: calico_operator_crds_sha256, bundle_name: 10-calico-operator-crds.yaml,
            url: "https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/operator-crds.yaml",
            path: /srv/manifests/calico/operator-crds.yaml, dir: /srv/manifests/calico}]
missing:
  description: The entries of C(manifests) that could not be had (only when I(required) is false).
  returned: always
  type: list
  elements: dict
images:
  description: Images of the releases that no manifest names (from the version tables).
  returned: always
  type: list
  elements: str
  sample: [quay.io/calico/typha:v3.32.1]
findings:
  description: Every problem found, C({code, severity, field, message}).
  returned: always
  type: list
  elements: dict
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url

from ansible_collections.edgeops.k8s_network.plugins.module_utils import releases
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import report

# In module_utils: the action plugin takes it from there without loading ansible.module_utils.urls.
ARGUMENT_SPEC = releases.ARGUMENT_SPEC


def _download(module, url):
    """The file's bytes, or (None, why not)."""
    response, info = fetch_url(module, url, timeout=module.params["timeout"])
    if info.get("status") != 200 or response is None:
        return None, "download of %s failed: %s" % (url, info.get("msg") or info.get("status"))
    return response.read(), None


def _cache(module, path, data):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".edgeops-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    module.atomic_move(tmp, path)


def fetcher(module):
    """releases.resolve's last resort: download ``entry``'s URL, check it, keep it in the cache."""
    def fetch(entry, cached):
        data, error = _download(module, entry["url"])
        if data is None:
            return None, None, error, False
        problem = releases.check_content(entry, data, entry["url"])
        if problem is not None:
            return None, problem, None, False
        # Cached in check mode too: the cache is the controller's, not the site's, and a check run
        # of the roles needs the file to show what applying it would do.
        _cache(module, cached, data)
        return cached, None, None, True
    return fetch


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.params.setdefault("http_agent", "edgeops.k8s_network")
    result, findings = releases.manifests_run(module.params, fetcher(module))
    report(module, findings, **result)


if __name__ == "__main__":
    main()
