# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write rendered objects to ``dest`` only when the text changes, so ``changed`` is honest.

``write_text`` takes the AnsibleModule of a renderer running as a module, or the stand-in
an action plugin gives it on the controller (plugin_utils/controller_files.py): both offer
``check_mode``, ``atomic_move``, ``load_file_common_arguments`` and
``set_fs_attributes_if_different``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
import traceback

try:
    import yaml
except ImportError:
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_YAML = True
    YAML_IMPORT_ERROR = None

from ansible.module_utils.common.text.converters import to_bytes, to_text


if HAS_YAML:
    class _ManifestDumper(yaml.SafeDumper):
        """Multi-line strings (a Corefile, a MetalLB config) as readable ``|`` blocks."""

    def _represent_text(dumper, text):
        style = "|" if "\n" in text and not text.startswith(" ") and not any(
            line != line.rstrip() for line in text.split("\n")) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)

    _ManifestDumper.add_representer(str, _represent_text)
    # Values an action plugin gets from a template may be subclasses of the plain types
    # (ansible-core tags them with their origin); they are written as the plain types.
    _ManifestDumper.add_multi_representer(str, _represent_text)
    _ManifestDumper.add_multi_representer(dict, yaml.SafeDumper.represent_dict)
    _ManifestDumper.add_multi_representer(list, yaml.SafeDumper.represent_list)
    _ManifestDumper.add_multi_representer(int, yaml.SafeDumper.represent_int)
    _ManifestDumper.add_multi_representer(float, yaml.SafeDumper.represent_float)


class ManifestError(Exception):
    """A renderer cannot go on: the message is the run's ``msg``, with its code."""


def read_objects(path):
    """Every object of a multi-document YAML file; ``None`` documents included."""
    with open(path, "rb") as handle:
        return list(yaml.safe_load_all(handle))


def dump_resources(resources):
    """Objects as multi-document YAML, in the given (apply) order, keys as built."""
    return yaml.dump_all(resources, Dumper=_ManifestDumper, default_flow_style=False, sort_keys=False,
                         explicit_start=True)


def write_text(module, dest, text):
    """Write ``text`` to ``dest`` when it differs. Returns ``(changed, diff)``.

    Honours check mode and the module's file options (``mode``, ``owner``...), which a
    module gets with ``add_file_common_args=True``.
    """
    dest = os.path.abspath(os.path.expanduser(dest))
    before = ""
    exists = os.path.exists(dest)
    if exists:
        with open(dest, "rb") as handle:
            before = to_text(handle.read(), errors="surrogate_or_strict")
    changed = before != text or not exists
    diff = {"before": before, "after": text, "before_header": dest, "after_header": dest}
    if changed and not module.check_mode:
        directory = os.path.dirname(dest)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".edgeops-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(text, errors="surrogate_or_strict"))
        module.atomic_move(tmp, dest)
    file_args = module.load_file_common_arguments(module.params, path=dest)
    if os.path.exists(dest):
        changed = module.set_fs_attributes_if_different(file_args, changed)
    return changed, diff


def file_run(params, files, show_diff):
    """One run of bundle_file: ``(result, None)``; ``content`` as given, or ``resources`` as YAML."""
    content = params.get("content")
    text = dump_resources(params["resources"]) if content is None else content
    changed, diff = write_text(files, params["dest"], text)
    result = {"changed": changed, "dest": os.path.abspath(params["dest"])}
    if show_diff:
        result["diff"] = diff
    return result, None
