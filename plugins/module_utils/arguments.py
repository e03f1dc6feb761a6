# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument checking that ends in a coded refusal, even where ansible-core's own raises.

ansible-core's argument spec checks raise a Python exception on some wrong types instead of
refusing them (an int or a list of ints where a dict with suboptions is expected: ``TypeError:
argument of type 'int' is not iterable``). Those become the coded finding ``argument_invalid``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import finding

# What ansible-core's argument checks have been seen to raise on hostile types.
CHECK_ERRORS = (TypeError, AttributeError, ValueError, OverflowError, RecursionError)


def argument_failure(error):
    """``(msg, findings)`` for an argument check that raised ``error`` (no value is quoted)."""
    message = ("the options could not be checked against the argument spec (%s: %s); check their types "
               "against the module's documentation" % (type(error).__name__, error))
    return "1 problem(s): [argument_invalid] options: " + message, [finding("argument_invalid", "options", message)]


def ansible_module(argument_spec, **kwargs):
    """``AnsibleModule(argument_spec, **kwargs)``; fails with ``argument_invalid`` where its checks raise."""
    try:
        return AnsibleModule(argument_spec=argument_spec, **kwargs)
    except CHECK_ERRORS as error:
        msg, findings = argument_failure(error)
    # Every option taken as it came, only to report the failure. Those values went unchecked,
    # a password among them, so none is logged (no_log) or echoed back (invocation).
    loose = dict((name, dict(type="raw")) for name in argument_spec)
    kwargs["no_log"] = True
    module = AnsibleModule(argument_spec=loose, **kwargs)
    module.fail_json(msg=msg, findings=findings, invocation={"module_args": "not shown: the options were not checked"})
