# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A task's options as a module would get them, validated against the module's argument spec.

Apart from controller_run.py, which also writes files: an action that only validates its options
(the check, compute_network_gate, role_arguments) loads no more than this in the task's worker,
where the collection loader compiles each plugin file it imports anew.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.edgeops.k8s_network.plugins.module_utils.arguments import CHECK_ERRORS, argument_failure


def plain_args(args):
    """The task's options as plain JSON data, as a module receives them.

    Templated values carry ansible-core's tags (their origin, their trust) on every string;
    the validator deep-copies its input, which for a list of a thousand tagged strings costs
    a hundred times the check. A module gets its options through JSON; so does this.
    """
    try:
        return json.loads(json.dumps(args))
    except (TypeError, ValueError):  # not JSON data: validate what was given, as it is
        return args


def validate_task_args(task, argument_spec, **validator_options):
    """``(params, no_log_values, msg)``: the task's options as the module would get them, or why not.

    The task keeps the plain options: Ansible sends them back with the result of every loop
    item, and tagged strings cost it many times more to pickle.
    """
    task.args = plain_args(task.args)
    try:
        validation = ArgumentSpecValidator(argument_spec, **validator_options).validate(task.args)
    except CHECK_ERRORS as error:
        return None, (), argument_failure(error)[0]
    if validation.error_messages:
        msg = validation.errors.msg
        if isinstance(validation.errors[0], UnsupportedError):
            msg = "Unsupported parameters for (%s) module: %s" % (task.action, msg)
        return None, (), msg
    return validation.validated_parameters, validation._no_log_values, None
