"""One task, two ways: the module as Ansible runs it on a host, the action plugin on the controller.

Shared by the action plugin tests, which hold both answers to the same inputs side by side.
"""

import json

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args
from ansible.playbook.play_context import PlayContext

from unittest.mock import MagicMock


def module_result(capsys, monkeypatch, module, args, check_mode=False, diff=False):
    """What module.main() prints for ``args``, with the texts it passed to warn() as ``warnings``."""
    shown = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, text: shown.append(text))
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    result = json.loads(capsys.readouterr().out)
    result["warnings"] = shown
    return result


def plugin(action, args, name, check_mode=False, diff=False, transport="local", become=False):
    """The action plugin of ``action`` (its module) for a task with ``args``."""
    task = MagicMock()
    task.args = dict(args)
    task.action = "edgeops.k8s_network." + name
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    connection = MagicMock()
    connection._shell.tmpdir = None
    connection.transport = transport
    play_context = PlayContext()
    play_context.become = become
    return action.ActionModule(task=task, connection=connection, play_context=play_context,
                               loader=None, templar=None, shared_loader_obj=None)


def action_result(action, args, name, **options):
    result = plugin(action, args, name, **options).run(task_vars={})
    # What reaches the play has been through Ansible's result handling: plain JSON data.
    result = json.loads(json.dumps(result))
    result.setdefault("warnings", [])
    return result


def unsupported_message_matches(msg_module, msg_action, name, option):
    """The module names itself by file name, the action by the task's action; the rest is the same."""
    return msg_module.startswith("Unsupported parameters for (") and msg_action == (
        "Unsupported parameters for (edgeops.k8s_network.%s) module: %s. Supported parameters include: %s"
        % (name, option, msg_module.split("Supported parameters include: ")[1]))
