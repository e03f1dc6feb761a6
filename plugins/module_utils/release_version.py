# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release numbers such as ``v3.30.2`` or ``1.31``, for rendering what a given release knows."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_RELEASE = re.compile(r"^v?(\d+)\.(\d+)(\.\d+)?([-+][0-9A-Za-z.-]+)?$")


def major_minor(value):
    """``(major, minor)`` of a release (``v3.30.2``, ``3.30``, ``v1.32.0-rc.1``); None when it is not one."""
    match = _RELEASE.match(str(value or "").strip())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))
