# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's computation in the controller's Python, as an action plugin.

The check and the renderers are pure computation plus, for the renderers, one file written
on the controller (the tasks run with ``delegate_to: localhost``). A module process for that
(AnsiballZ payload, a new interpreter, JSON both ways) costs a few hundred times the work.
The action plugins here validate the task's options against the module's own argument spec
(the same messages AnsibleModule gives), compute in process, and write ``dest`` themselves.
They run the module as usual where they cannot stand in for it: a controller without the
libraries, a ``dest`` on another host or written with become, or file options that need
more than ``chmod`` and ``chown`` (SELinux contexts, attributes, symbolic modes).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import FILE_COMMON_ARGUMENTS
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.edgeops.k8s_network.plugins.module_utils import ipranges, manifest_file
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import failure_message, warning_lines
from ansible_collections.edgeops.k8s_network.plugins.plugin_utils.task_args import validate_task_args

# File options only AnsibleModule applies (SELinux, chattr) or that change how it writes.
_MODULE_ONLY_FILE_OPTIONS = ("seuser", "serole", "selevel", "setype", "attributes", "unsafe_writes")


def octal_mode(mode):
    """``mode`` as the number AnsibleModule would read from an octal value, else None (symbolic)."""
    if mode is None or isinstance(mode, bool):
        return None
    if isinstance(mode, int):
        return mode
    try:
        return int(str(mode), 8)
    except ValueError:
        return None


def _id_of(name, database, field):
    if name is None:
        return None
    try:
        return int(name)
    except ValueError:
        pass
    try:
        return getattr(database(name), field)
    except KeyError:
        raise manifest_file.ManifestError("chown failed: failed to look up %s %s" % (
            "user" if field == "pw_uid" else "group", name))


def path_info(path):
    """What AnsibleModule.exit_json adds about a result's ``dest`` (SELinux context aside)."""
    if not os.path.exists(path):
        return {}
    current = os.lstat(path)
    try:
        owner = pwd.getpwuid(current.st_uid)[0]
    except KeyError:
        owner = str(current.st_uid)
    try:
        group = grp.getgrgid(current.st_gid)[0]
    except KeyError:
        group = str(current.st_gid)
    if os.path.islink(path):
        state = "link"
    elif os.path.isdir(path):
        state = "directory"
    else:
        state = "hard" if os.stat(path).st_nlink > 1 else "file"
    return {"uid": current.st_uid, "gid": current.st_gid, "owner": owner, "group": group,
            "mode": "0%03o" % stat.S_IMODE(current.st_mode), "state": state, "size": current.st_size}


class ControllerFiles(object):
    """What manifest_file.write_text needs of an AnsibleModule, on the controller.

    The file is written next to ``dest`` and renamed over it, so a reader never sees half a
    file; a new file gets the umask's permissions and an existing one keeps its own, as
    AnsibleModule.atomic_move does, before ``mode``, ``owner`` and ``group`` are applied.
    """

    def __init__(self, params, check_mode):
        self.params = params
        self.check_mode = check_mode

    @staticmethod
    def can_apply(params):
        """Whether this class can honour every file option the task gives."""
        if any(params.get(option) for option in _MODULE_ONLY_FILE_OPTIONS):
            return False
        return params.get("mode") is None or octal_mode(params["mode"]) is not None

    def load_file_common_arguments(self, params, path=None):
        return {"path": path, "mode": params.get("mode"), "owner": params.get("owner"), "group": params.get("group")}

    def atomic_move(self, src, dest):
        if os.path.exists(dest):
            current = os.stat(dest)
            os.chmod(src, stat.S_IMODE(current.st_mode))
            if os.geteuid() == 0:
                os.chown(src, current.st_uid, current.st_gid)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(src, 0o666 & ~umask)
        os.rename(src, dest)

    def set_fs_attributes_if_different(self, file_args, changed):
        path = file_args["path"]
        current = os.stat(path)
        mode = octal_mode(file_args.get("mode"))
        if mode is not None and stat.S_IMODE(current.st_mode) != mode:
            changed = True
            if not self.check_mode:
                os.chmod(path, mode)
        uid = _id_of(file_args.get("owner"), pwd.getpwnam, "pw_uid")
        gid = _id_of(file_args.get("group"), grp.getgrnam, "gr_gid")
        if (uid is not None and uid != current.st_uid) or (gid is not None and gid != current.st_gid):
            changed = True
            if not self.check_mode:
                try:
                    os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)
                except OSError as error:
                    raise manifest_file.ManifestError("chown failed: %s" % error)
        return changed


class ControllerRunAction(ActionBase):
    """An action plugin that runs ``RUN(params, files, show_diff)`` in process.

    ``RUN`` (a staticmethod) is the function the module's main() also calls; it returns
    ``(result, findings)``, findings None for a writer, and may raise manifest_file.ManifestError. The result is shaped as ``report()`` shapes a
    module's: failed with ``msg`` when the findings stop the run, warnings as lines.
    """

    TRANSFERS_FILES = False
    ARGUMENT_SPEC = None
    VALIDATOR_OPTIONS = {}
    # Options naming files on the task's host: with any of them set, the action works in
    # process only when that host is the controller, as it is with delegate_to: localhost.
    FILE_OPTIONS = ("dest",)
    NEEDS_NETADDR = True
    NEEDS_YAML = True
    # The module takes the file options (mode, owner...) of add_file_common_args.
    ADD_FILE_COMMON_ARGUMENTS = True
    RUN = None

    def _libraries_here(self):
        return (manifest_file.HAS_YAML or not self.NEEDS_YAML) and (ipranges.HAS_NETADDR or not self.NEEDS_NETADDR)

    def _files_here(self, params):
        if not any(params.get(option) for option in self.FILE_OPTIONS):
            return True
        local = getattr(self._connection, "transport", None) == "local"
        return local and not self._play_context.become and ControllerFiles.can_apply(params)

    def run(self, tmp=None, task_vars=None):
        if not self._libraries_here():
            return self._execute_module(task_vars=task_vars)
        result = super(ControllerRunAction, self).run(tmp, task_vars)
        spec = dict(self.ARGUMENT_SPEC, **FILE_COMMON_ARGUMENTS) if self.ADD_FILE_COMMON_ARGUMENTS else self.ARGUMENT_SPEC
        params, no_log_values, msg = validate_task_args(self._task, spec, **self.VALIDATOR_OPTIONS)
        if msg:
            result.update(failed=True, msg=msg)
            return result
        if not self._files_here(params):
            return self._execute_module(task_vars=task_vars)
        try:
            outcome, findings = self.RUN(params, ControllerFiles(params, self._task.check_mode), self._task.diff)
        except manifest_file.ManifestError as error:
            result.update(failed=True, msg=str(error))
            return remove_values(result, no_log_values)
        result.update(outcome)
        if result.get("dest"):
            result.update(path_info(result["dest"]))
        if findings is None:  # a writer, not a renderer: nothing to find
            return remove_values(result, no_log_values)
        result["findings"] = findings
        msg = failure_message(findings)
        if msg:
            result.update(failed=True, msg=msg)
        warnings = warning_lines(findings)
        if warnings:
            result["warnings"] = warnings
        return remove_values(result, no_log_values)
