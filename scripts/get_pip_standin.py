# Copyright: (c) 2025, edgeops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline replacement for the get-pip script that ansible-test downloads.

ansible-test bootstraps pip into each of its sanity virtual environments by running
``get-pip-<version>.py`` fetched from ci-files.testing.ansible.com, which is not reachable
here. scripts/sanity.sh copies this file to ``~/.ansible/test/cache/get_pip_<version>.py``,
where ansible-test looks before downloading. It seeds pip from the interpreter's own
``ensurepip`` and then lets that pip install the exact packages ansible-test asked for from
PyPI.

ensurepip runs in a child process on purpose: run in-process it leaves pip's TLS set-up in
a state where the following install cannot reach PyPI.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import sys

# get-pip.py understands these; `pip install` does not. ansible-test passes them to keep
# setuptools and wheel out of its virtual environments, which ensurepip already does.
GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    rc = subprocess.call([sys.executable, "-m", "ensurepip", "--default-pip"])
    if rc != 0:
        return rc
    if not [arg for arg in args if not arg.startswith("-")]:
        return 0
    return subprocess.call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    sys.exit(main())
