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

import errno
import os
import stat
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

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import finding


def require_libraries(module, yaml_needed):
    """Stop a renderer running as a module where netaddr, or PyYAML when it will write, is missing."""
    if not ipranges.HAS_NETADDR:
        module.fail_json(msg=missing_required_lib("netaddr"), exception=ipranges.NETADDR_IMPORT_ERROR)
    if yaml_needed and not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)


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


def read_objects(path, field="release_manifest"):
    """Every object of a multi-document YAML file; ``None`` documents included.

    Read as read_regular reads (no FIFO, no link out of its folder); raises UnsafeFile, also
    when there is no such file.
    """
    text = read_regular(path, field)
    if text is None:
        raise UnsafeFile("dest_unwritable", field, "%s does not exist" % path)
    return list(yaml.safe_load_all(text))


def dump_resources(resources):
    """Objects as multi-document YAML, in the given (apply) order, keys as built."""
    return yaml.dump_all(resources, Dumper=_ManifestDumper, default_flow_style=False, sort_keys=False,
                         explicit_start=True)


# A rendered manifest is a few kilobytes; a release manifest a few megabytes. Anything far larger
# at a bundle path is not ours, and reading it whole would only exhaust the controller.
MAX_READ = 64 * 1024 * 1024

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class UnsafeFile(Exception):
    """A file the collection refuses to read or write, as a coded finding."""

    def __init__(self, code, field, message):
        super(UnsafeFile, self).__init__(message)
        self.finding = finding(code, field, message)


def _kind(mode):
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _os_reason(error):
    return to_text(getattr(error, "strerror", None) or error)


def safe_path(path, field="dest"):
    """The path to read and write for ``path``, refusing what is unsafe to open.

    A symbolic link is followed only when its target stays in the link's own folder (a bundle
    folder that links one file to another); a link out of the folder is refused, so that whoever
    can plant a link in a bundle folder cannot have another file read into a diff or overwritten.
    Anything other than a regular file (a directory, a FIFO that would block the reader for
    ever, a device) is refused as well. A missing file is fine: it will be created.
    """
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            target = os.path.realpath(path)
            if os.path.dirname(target) != os.path.realpath(folder):
                raise UnsafeFile("dest_symlink_escapes", field,
                                 "%s is a symbolic link that leaves its folder %s; refusing to read or write "
                                 "through it (remove the link)" % (path, folder))
            path = target
            info = os.lstat(path)
    except (IOError, OSError) as error:
        if error.errno == errno.ENOENT:
            return path
        raise UnsafeFile("dest_unwritable", field, "%s: %s" % (path, _os_reason(error)))
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFile("dest_not_regular_file", field,
                         "%s is %s, not a regular file; refusing to open it" % (path, _kind(info.st_mode)))
    return path


def read_regular(path, field="dest", limit=MAX_READ):
    """The bytes of a regular file at ``path`` (see safe_path), or None when there is none."""
    path = safe_path(path, field)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except (IOError, OSError) as error:
        if error.errno == errno.ENOENT:
            return None
        raise UnsafeFile("dest_unwritable", field, "%s: %s" % (path, _os_reason(error)))
    with os.fdopen(fd, "rb") as handle:
        # Swapped for something else since safe_path looked: check what was really opened.
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile("dest_not_regular_file", field,
                             "%s is %s, not a regular file; refusing to read it" % (path, _kind(info.st_mode)))
        if info.st_size > limit:
            raise UnsafeFile("file_too_large", field, "%s holds %d bytes, more than the %d this collection reads"
                             % (path, info.st_size, limit))
        return handle.read(limit + 1)[:limit]


def _writable_problem(path):
    """Why the folder of ``path`` could not take a new file, or None; writes nothing."""
    folder = os.path.dirname(path)
    while not os.path.lexists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    if not os.path.isdir(folder):
        return "%s is not a folder" % folder
    if not os.access(folder, os.W_OK | os.X_OK):
        return "%s is not writable (read-only file system or no permission)" % folder
    return None


def look(dest, text, field="dest"):
    """What write_text in check mode finds: ``(path, text before, changed)``; writes nothing.

    Raises UnsafeFile as write_text does, for a path it refuses or a change it could not write.
    """
    path = safe_path(os.path.expanduser(dest), field)
    before = read_regular(path, field)
    exists = before is not None
    before = "" if before is None else to_text(before, errors="surrogate_or_strict")
    changed = before != text or not exists
    if changed:
        problem = _writable_problem(path)
        if problem:
            raise UnsafeFile("dest_unwritable", field, "cannot write %s: %s" % (path, problem))
    return path, before, changed


def write_text(module, dest, text, field="dest"):
    """Write ``text`` to ``dest`` when it differs. Returns ``(changed, diff)``.

    Honours check mode and the module's file options (``mode``, ``owner``...), which a
    module gets with ``add_file_common_args=True``. Raises UnsafeFile (its ``finding`` names
    ``field``) for a path it refuses (see safe_path) or cannot write; check mode refuses the
    same paths, so a check-mode run tells ahead whether the write would go through.
    """
    path, before, changed = look(dest, text, field)
    diff = {"before": before, "after": text, "before_header": path, "after_header": path}
    if changed and not module.check_mode:
        directory = os.path.dirname(path)
        tmp = None
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".edgeops-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(to_bytes(text, errors="surrogate_or_strict"))
        except (IOError, OSError) as error:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
            raise UnsafeFile("dest_unwritable", field, "cannot write %s: %s" % (path, _os_reason(error)))
        module.atomic_move(tmp, path)
    file_args = module.load_file_common_arguments(module.params, path=path)
    if os.path.exists(path):
        changed = module.set_fs_attributes_if_different(file_args, changed)
    return changed, diff


def comment_lines(text):
    """``text`` as YAML comment lines, each ending in a newline ("" for none)."""
    if not text:
        return ""
    return "".join(line if line.startswith("#") else "# " + line for line in text.splitlines(True)).rstrip("\n") + "\n"


def file_run(params, files, show_diff):
    """One run of bundle_file: ``(result, findings)``; ``content`` as given, or ``resources`` as YAML.

    ``findings`` is None (a writer has nothing to find) unless ``dest`` is refused.
    """
    content = params.get("content")
    text = comment_lines(params.get("header")) + (dump_resources(params["resources"]) if content is None else content)
    result = {"changed": False, "dest": os.path.abspath(params["dest"])}
    try:
        result["changed"], diff = write_text(files, params["dest"], text)
    except UnsafeFile as error:
        return result, [error.finding]
    if show_diff:
        result["diff"] = diff
    return result, None


def write_or_refuse(module, dest, text, findings, field="dest"):
    """write_text, with a refused or failed write added to ``findings``: ``(changed, diff)``."""
    try:
        return write_text(module, dest, text, field)
    except UnsafeFile as error:
        findings.append(error.finding)
        return False, None
