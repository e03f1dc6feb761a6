# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run of site_bundle: the release manifests, images.txt, kustomization.yaml and README.md.

``bundle_run(params, files, show_diff)`` is what the module's main() and the action plugin of the
same name (in the controller's Python) both call; ``files`` is the AnsibleModule, or the stand-in
plugin_utils/controller_run.py gives (see manifest_file.write_text). A problem that stops the run
raises manifest_file.ManifestError with its coded message, before anything is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.edgeops.k8s_network.plugins.module_utils import manifest_file, releases


def _objects_of(path, data=None):
    """The objects of a bundle or release file, read as manifest_file.read_regular reads (a FIFO or
    a link out of its folder is refused as UnsafeFile, never opened)."""
    try:
        if data is None:
            data = manifest_file.read_regular(path)
        return [obj for obj in manifest_file.yaml.safe_load_all(data or b"") if obj]
    except manifest_file.yaml.YAMLError as error:
        raise manifest_file.ManifestError("[manifest_unreadable] %s: %s" % (path, error))


def _release_text(entry, settings):
    """The text of one verified release file as it goes into the bundle, and the objects in it."""
    try:
        data = manifest_file.read_regular(entry["path"], field=entry.get("variable") or "manifests")
    except manifest_file.UnsafeFile as error:
        unsafe = error.finding
        raise manifest_file.ManifestError("[%s] %s: %s" % (unsafe["code"], unsafe["field"], unsafe["message"]))
    if data is None:
        raise manifest_file.ManifestError("[manifest_unreadable] %s: no such file" % entry["path"])
    problem = releases.check_content(entry, data, entry["path"])
    if problem is not None:
        raise manifest_file.ManifestError("[%s] %s: %s" % (problem["code"], problem["field"], problem["message"]))
    text = to_text(data, errors="surrogate_or_strict")
    objects = _objects_of(entry["path"], data)
    if entry["component"] == "calico" and entry["name"] == "calico.yaml":
        # Loaded only here: the Calico renderer is large, and most bundles have no calico.yaml.
        from ansible_collections.edgeops.k8s_network.plugins.module_utils import calico
        objects = calico.customize_release_manifest(objects, settings.get("mtu"), settings.get("ip_autodetection_method"),
                                                    settings.get("pool"))
        text = manifest_file.dump_resources(objects)
    return text, objects


def _sha_summary(text):
    return "sha256 %s\n" % releases.sha256_hex(text.encode("utf-8")) if text else ""


def bundle_run(params, files, show_diff):
    """Write the bundle in ``params['dest']``: ``(result, findings)``.

    The findings hold a bundle file that is refused (see manifest_file.safe_path), as bundle_file
    reports it; a release file that is not its pin, or unreadable, raises ManifestError.
    """
    dest = os.path.abspath(params["dest"])

    # Read and check everything first: a bad file stops the run before anything is written.
    site = {}
    for item in params.get("site_files") or []:
        text = manifest_file.comment_lines(item.get("header")) + manifest_file.dump_resources(item["resources"])
        site[item["file"]] = (text, item["resources"])
    wanted, images, missing = {}, list(params["images"]), []
    entries = params["manifests"]
    for entry in entries:
        if not entry.get("path"):
            missing.append({"file": entry["bundle_name"], "url": entry["url"], "sha256": entry["sha256"]})
            continue
        text, objects = _release_text(entry, params["calico"])
        wanted[entry["bundle_name"]] = text
        images.extend(releases.images_in(objects))

    present = os.listdir(dest) if os.path.isdir(dest) else []
    stale = [name for name in present if releases.is_release_file(name) and name not in wanted]
    names = releases.bundle_files(set(present) - set(stale) | set(wanted) | set(site))
    for name in names:
        if name in site:
            images.extend(releases.images_in(site[name][1]))
        elif name not in wanted:  # the site's own configuration, written by the roles
            try:
                images.extend(releases.images_in(_objects_of(os.path.join(dest, name))))
            except manifest_file.UnsafeFile as error:
                return dict(changed=False, files=names, missing=missing), [error.finding]
    extra = {
        "images.txt": releases.images_text(images),
        "kustomization.yaml": releases.kustomization_text(names),
        "README.md": releases.readme_text(names, entries, [e for e in entries if not e.get("path")],
                                          images_incomplete=bool(missing)),
    }

    changed, diffs = False, []
    writes = ([(name, site[name][0]) for name in sorted(site)] + sorted(wanted.items()) + sorted(extra.items()))
    # Every file looked at before the first is written: one that must not or cannot be written
    # (a link out of the folder, a FIFO, a read-only folder) leaves the bundle as it was.
    try:
        for name, text in writes:
            manifest_file.look(os.path.join(dest, name), text)
    except manifest_file.UnsafeFile as error:
        return dict(changed=False, files=names, missing=missing), [error.finding]
    for name, text in writes:
        path = os.path.join(dest, name)
        try:
            file_changed, diff = manifest_file.write_text(files, path, text)
        except manifest_file.UnsafeFile as error:  # changed since the look
            return dict(changed=changed, files=names, missing=missing), [error.finding]
        changed = changed or file_changed
        if file_changed and name in wanted:
            diff = dict(diff, before=_sha_summary(diff["before"]), after=_sha_summary(text))
        if file_changed:
            diffs.append(diff)
    for name in stale:
        path = os.path.join(dest, name)
        diffs.append({"before_header": path, "after_header": path, "before": "present\n", "after": "removed\n"})
        changed = True
        if not files.check_mode:
            os.remove(path)

    result = dict(changed=changed, files=names, missing=missing, images=extra["images.txt"].splitlines(),
                  install_command=releases.INSTALL_COMMAND,
                  summary=releases.summary_lines(os.path.realpath(dest), names, missing))
    if show_diff:
        result["diff"] = diffs
    return result, []
