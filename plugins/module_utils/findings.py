# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings: the one shape every check and renderer reports problems in.

A finding is a plain dict ``{code, severity, field, message}`` so that it survives
Ansible's result serialisation unchanged and users can match on ``code``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ERROR = "error"
WARNING = "warning"


def finding(code, field, message, severity=ERROR):
    return {"code": code, "severity": severity, "field": field, "message": message}


def warning(code, field, message):
    return finding(code, field, message, severity=WARNING)


def errors_of(findings, strict=False):
    """The findings that stop a run: errors, or every finding when strict."""
    if strict:
        return list(findings)
    return [f for f in findings if f["severity"] == ERROR]


def finding_line(item):
    """One finding as users read it in a run: ``[code] field: message``."""
    return "[%s] %s: %s" % (item["code"], item["field"], item["message"])


def format_findings(findings):
    """The findings on one line, for a task's ``msg``."""
    return "; ".join(finding_line(f) for f in findings)


def warning_lines(findings):
    """The warnings as the lines Ansible shows after a task."""
    return [finding_line(f) for f in findings if f["severity"] == WARNING]


def failure_message(findings, strict=False, fail_on_error=True):
    """The ``msg`` of a run these findings stop, or None when they do not stop it."""
    blocking = errors_of(findings, strict)
    if blocking and fail_on_error:
        return "%d problem(s): %s" % (len(blocking), format_findings(blocking))
    return None


def report(module, findings, strict=False, fail_on_error=True, **result):
    """Exit an AnsibleModule with ``findings``: warn for warnings, fail on errors.

    ``warnings`` is a key Ansible reserves, so warnings go through ``module.warn``.
    """
    for line in warning_lines(findings):
        module.warn(line)
    msg = failure_message(findings, strict, fail_on_error)
    if msg:
        module.fail_json(msg=msg, findings=findings, **result)
    module.exit_json(findings=findings, **result)
