# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upstream release manifests: which files a site needs, their pins, and the bundle around them.

Plain functions over plain data. A *release* is what a role asks for (component, version, files,
the operator's own checksums, the version table of that component); ``plan`` turns the releases
into one *entry* per file, with the sha256 that pins it and where that pin came from; ``resolve``
finds each file in its folder, the cache or the bundle, leaving a download to the module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import os
import re

from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import finding, warning

SHA256 = re.compile(r"^[0-9a-f]{64}$")

# Where each component's release files go in a bundle: before the configuration that needs
# their resource definitions (20-calico.yaml, 40-metallb.yaml).
BUNDLE_BASE = {"calico": 10, "metallb": 30}
# The prefixes a file name already carries its component by.
OWN_PREFIXES = {"calico": ("calico", "tigera"), "metallb": ("metallb",)}

KUSTOMIZATION_HEADER = "# Written by edgeops.k8s_network: the bundle's files in apply order.\n"
FIELD_MANAGER = "edgeops.k8s_network"
# Server-side, since kubeadm owns the Corefile field of the coredns ConfigMap and the CRDs are
# too large for the annotation of a client-side apply; file by file, retrying while the
# resource definitions of the file before become established and webhooks start to answer.
INSTALL_COMMAND = (
    "for f in [0-9]*.yaml; do\n"
    "  until kubectl apply --server-side --force-conflicts --field-manager=%s -f \"$f\"; do sleep 10; done\n"
    "done" % FIELD_MANAGER
)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def bundle_name(component, index, name):
    """The file's name in a bundle: ``10-calico-operator-crds.yaml``, ``11-tigera-operator.yaml``..."""
    if not name.startswith(OWN_PREFIXES.get(component, (component,))):
        name = "%s-%s" % (component, name)
    return "%02d-%s" % (BUNDLE_BASE.get(component, 60) + index, name)


BUNDLE_FILE = re.compile(r"^(\d\d)-[A-Za-z0-9._-]+\.yaml$")


def is_release_file(name):
    """Whether a bundle file name is in the numbers release manifests take (10-19, 30-39)."""
    match = BUNDLE_FILE.match(name)
    return bool(match) and any(base <= int(match.group(1)) < base + 10 for base in BUNDLE_BASE.values())


def bundle_files(names):
    """The bundle's manifests among ``names``, in apply (name) order."""
    return sorted(name for name in names if BUNDLE_FILE.match(name))


def _pin(release, item, table_files):
    """The sha256 of one file and where it came from: the operator's own value wins."""
    given = (item.get("sha256") or "").strip().lower()
    if given:
        return given, "operator"
    listed = (table_files.get(item["name"]) or "").strip().lower()
    if listed:
        return listed, "table"
    return "", None


def plan(releases):
    """One entry per file of every release that is installed, and the findings of their pins.

    An unlisted version without an operator-given checksum is refused (``manifest_not_pinned``),
    naming the version, the file, its URL and the variable to set: a release nobody reviewed is
    never applied.
    """
    entries, findings = [], []
    for release in releases:
        if not release.get("install", True):
            continue
        component = release["component"]
        version = release.get("version") or ""
        table = release.get("table") or {}
        table_files = (table.get(version) or {}).get("files") or {}
        for index, item in enumerate(release.get("files") or []):
            name = item["name"]
            url = item.get("url") or "%s/%s" % ((release.get("base_url") or "").rstrip("/"), name)
            variable = item.get("variable") or "%s_sha256" % component
            sha256, source = _pin(release, item, table_files)
            entry = {"component": component, "version": version, "name": name, "url": url,
                     "sha256": sha256, "pin": source, "variable": variable,
                     "dir": release.get("dir") or "", "bundle_name": bundle_name(component, index, name)}
            if source is None:
                findings.append(finding(
                    "manifest_not_pinned", variable,
                    "%s %s %s (%s) has no checksum in the collection's table (it lists %s): review the "
                    "file and set %s to its sha256" % (component, version, name, url,
                                                       ", ".join(sorted(table)) or "no version", variable)))
            elif not SHA256.match(sha256):
                findings.append(finding(
                    "manifest_not_pinned", variable,
                    "%s %s %s: %r is not a sha256 (64 hex digits)" % (component, version, name, sha256)))
            entries.append(entry)
    return entries, findings


def check_content(entry, data, origin):
    """A finding when ``data`` is not the pinned file, else None. ``origin`` names where it came from."""
    actual = sha256_hex(data)
    if actual == entry["sha256"]:
        return None
    return finding("manifest_checksum_mismatch", entry["variable"],
                   "%s: sha256 %s is not the pinned %s (%s %s %s, pin from the %s)"
                   % (origin, actual, entry["sha256"], entry["component"], entry["version"], entry["name"],
                      "operator" if entry["pin"] == "operator" else "collection's version table"))


def missing_finding(entry, reason, required):
    """A file that could not be had: an error where it is to be applied, a warning for a bundle."""
    make = finding if required else warning
    return make("manifest_unavailable", entry["variable"],
                "%s %s %s is missing (%s): put it in %s_manifest_dir, or fetch %s (sha256 %s)"
                % (entry["component"], entry["version"], entry["name"], reason, entry["component"],
                   entry["url"], entry["sha256"]))


# The options of release_manifests (plugins/modules/release_manifests.py documents them).
FILE_SPEC = dict(
    name=dict(type="str", required=True),
    sha256=dict(type="str", default=""),
    variable=dict(type="str"),
    url=dict(type="str"),
)
ARGUMENT_SPEC = dict(
    releases=dict(type="list", elements="dict", required=True, options=dict(
        component=dict(type="str", required=True),
        version=dict(type="str", required=True),
        install=dict(type="bool", default=True),
        files=dict(type="list", elements="dict", required=True, options=FILE_SPEC),
        base_url=dict(type="str", default=""),
        dir=dict(type="path"),
        table=dict(type="dict", default={}),
    )),
    required=dict(type="bool", default=True),
    download=dict(type="bool", default=True),
    cache_dir=dict(type="path", default="~/.cache/edgeops.k8s_network/manifests"),
    bundle_dir=dict(type="path"),
    timeout=dict(type="int", default=30),
    validate_certs=dict(type="bool", default=True),
)


class DownloadNeeded(Exception):
    """A file is at hand nowhere and must be downloaded, which only the module does."""


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def no_download(entry, cached):
    """resolve's last resort where downloads are left to the module (the action plugin)."""
    raise DownloadNeeded(entry["url"])


def resolve(entry, params, fetch):
    """Find and verify one file: ``(path or None, finding or None, reason missing, downloaded)``.

    From its folder, else the cache, else the bundle; else ``fetch(entry, cached path)`` (the
    module's download) when I(download) is on.
    """
    if entry["dir"]:
        path = os.path.join(entry["dir"], entry["name"])
        if not os.path.isfile(path):
            return None, None, "not in %s" % entry["dir"], False
        return path, check_content(entry, _read(path), path), None, False
    cached = os.path.join(params["cache_dir"], "%s-%s" % (entry["sha256"][:12], entry["name"]))
    if os.path.isfile(cached) and check_content(entry, _read(cached), cached) is None:
        return cached, None, None, False
    if params["bundle_dir"]:
        copy = os.path.join(params["bundle_dir"], entry["bundle_name"])
        if os.path.isfile(copy) and check_content(entry, _read(copy), copy) is None:
            return copy, None, None, False
    if not params["download"]:
        return None, None, "not downloaded (download is off)", False
    return fetch(entry, cached)


def manifests_run(params, fetch):
    """One run of release_manifests: ``(result, findings)``."""
    entries, findings = plan(params["releases"])
    missing, changed = [], False
    if not findings:
        for entry in entries:
            entry["path"], problem, reason, downloaded = resolve(entry, params, fetch)
            changed = changed or downloaded
            if problem is not None:
                findings.append(problem)
            elif reason is not None:
                findings.append(missing_finding(entry, reason, params["required"]))
                missing.append(entry)
            else:
                objects = applied_objects(entry["path"])
                if objects is not None:
                    entry["objects"] = objects
    images = []
    for release in params["releases"]:
        if release["install"]:
            images.extend(table_images(release))
    return dict(changed=changed, manifests=entries, missing=missing, images=images), findings


# ---------------------------------------------------------------------------
# The objects as the roles apply them.
# ---------------------------------------------------------------------------

# The label the API server gives every Namespace, its own name, on every write.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# The type the API server gives a Secret that names none.
SECRET_DEFAULT_TYPE = "Opaque"


def _sets_a_field(value):
    """Whether a part of an applied configuration gives its applier a field to own (an empty
    map gives none)."""
    if isinstance(value, dict):
        return any(_sets_a_field(item) for item in value.values())
    return value is not None


def owns_no_field(obj):
    """Whether server-side applying ``obj`` leaves its field manager owning nothing: it says no
    more than its kind, name and namespace (a Namespace's status is the server's)."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    rest = dict((key, value) for key, value in obj.items() if key not in ("apiVersion", "kind", "metadata", "status"))
    rest.update((key, value) for key, value in meta.items() if key not in ("name", "namespace"))
    return not _sets_a_field(rest)


# A document of a file that is a Namespace or a Secret (its top-level kind): only such files are parsed.
DECLARING_DOCUMENT = re.compile(br"^kind:[ \t]*[\"']?(?:Namespace|Secret)[\"']?[ \t]*$", re.M)


def applied_objects(path):
    """The objects of a verified file as the roles apply them where that differs from the file
    (declare_default_fields), else None: the file is applied from its path as it is."""
    data = _read(path)
    if not DECLARING_DOCUMENT.search(data):
        return None
    # Loaded only for a file that holds a Namespace or a Secret: most runs never need YAML here.
    from ansible_collections.edgeops.k8s_network.plugins.module_utils import manifest_file
    if not manifest_file.HAS_YAML:
        raise RuntimeError("PyYAML is needed to read %s (ansible-core's own dependency): %s"
                           % (path, manifest_file.YAML_IMPORT_ERROR))
    loader = getattr(manifest_file.yaml, "CSafeLoader", manifest_file.yaml.SafeLoader)
    objects = [obj for obj in manifest_file.yaml.load_all(data, Loader=loader) if obj is not None]
    objects, changed = declare_default_fields(objects)
    return objects if changed else None


def declare_default_fields(objects):
    """``(objects, changed)``: each object that says nothing but its name declares one field the
    API server gives it anyway: a Namespace its name label, a Secret its type (Opaque).

    A field manager that owns no field of an object leaves it without managedFields; the next
    server-side apply then first records what the object holds under "before-first-apply", a
    write that moves its resourceVersion although nothing was asked to change. So does a writer
    in between: MetalLB's controller fills the release's empty metallb-webhook-cert Secret with
    an update that records no manager of its own, and every next apply of the bare Secret moved
    it again. Declaring the server's own value gives the manager one field, so a second identical
    apply writes nothing. The input is not changed.
    """
    result, changed = [], False
    for obj in objects:
        if isinstance(obj, dict) and obj.get("apiVersion") == "v1" and owns_no_field(obj) \
                and (obj.get("metadata") or {}).get("name"):
            if obj.get("kind") == "Namespace":
                obj = copy.deepcopy(obj)
                obj["metadata"]["labels"] = {NAMESPACE_NAME_LABEL: obj["metadata"]["name"]}
                changed = True
            elif obj.get("kind") == "Secret":
                obj = dict(obj, type=SECRET_DEFAULT_TYPE)
                changed = True
        result.append(obj)
    return result, changed


# ---------------------------------------------------------------------------
# What a bundle holds besides the objects.
# ---------------------------------------------------------------------------

POD_SPEC_KEYS = ("containers", "initContainers", "ephemeralContainers")


def images_in(objects):
    """Every container image the objects name, in first-seen order."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in POD_SPEC_KEYS and isinstance(value, list):
                    for container in value:
                        image = container.get("image") if isinstance(container, dict) else None
                        if image and image not in found:
                            found.append(image)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(objects)
    return found


def table_images(release):
    """Images that come with the release's files without being named in them (the Tigera operator's)."""
    version = (release.get("table") or {}).get(release.get("version") or "") or {}
    by_file = version.get("images") or {}
    found = []
    for item in release.get("files") or []:
        found.extend(by_file.get(item["name"]) or [])
    return found


def images_text(images):
    return "".join("%s\n" % image for image in sorted(set(images)))


def kustomization_text(files):
    """A kustomization.yaml listing the bundle's files, so Argo CD or Flux take the folder as it is."""
    lines = [KUSTOMIZATION_HEADER, "apiVersion: kustomize.config.k8s.io/v1beta1\n", "kind: Kustomization\n",
             "resources:\n"]
    lines.extend("  - %s\n" % name for name in files)
    return "".join(lines)


def readme_text(files, entries, missing, images_incomplete=False):
    """The bundle's README: what it holds, how to apply it, and what it lacks."""
    out = ["# Site bundle\n", "\n",
           "Written by edgeops.k8s_network (`playbooks/render.yml`); re-rendering the same settings\n",
           "leaves every file as it is. Apply the files in name order, server-side:\n", "\n",
           "```sh\n", "cd <this folder>\n", INSTALL_COMMAND, "\n", "```\n", "\n",
           "or point Argo CD or Flux at the folder (`kustomization.yaml` lists the files in order).\n",
           "`images.txt` lists the container images the site pulls, for a mirror.\n", "\n",
           "## Files\n", "\n"]
    out.extend("- `%s`\n" % name for name in files)
    if entries:
        out.extend(["\n", "## Upstream releases\n", "\n", "| file | release | sha256 |\n", "|---|---|---|\n"])
        for entry in entries:
            out.append("| `%s` | %s %s `%s` | `%s` |\n" % (
                entry["bundle_name"], entry["component"], entry["version"], entry["name"], entry["sha256"]))
    if missing:
        out.extend(["\n", "## MISSING: this bundle does not install the site yet\n", "\n",
                    "These release files could not be had when the bundle was written. Fetch each and check\n",
                    "its sha256; then render again with the file in `calico_manifest_dir` or\n",
                    "`metallb_manifest_dir` (under its upstream name), or put it in this folder under the\n",
                    "name given (not `10-calico.yaml`, which the render customises for the site):\n", "\n"])
        for entry in missing:
            out.append("- `%s`: %s (sha256 `%s`)\n" % (entry["bundle_name"], entry["url"], entry["sha256"]))
    if images_incomplete:
        out.extend(["\n", "`images.txt` lacks the images of the missing files; those of the releases named\n",
                    "in the version table are listed.\n"])
    return "".join(out)


def summary_lines(dest, files, missing):
    """What a run prints about the bundle: where, what, how to apply, and what it lacks."""
    lines = ["Bundle in %s, apply in this order:" % dest] + list(files)
    lines += ["with, in that folder:"] + INSTALL_COMMAND.split("\n")
    if missing:
        lines.append("MISSING: the bundle does not install the site until these are added (see its README.md):")
        lines.extend("%s: %s (sha256 %s)" % (item["file"], item["url"], item["sha256"]) for item in missing)
    return lines
