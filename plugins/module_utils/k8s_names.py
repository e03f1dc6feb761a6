# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a value becomes in a rendered object: Kubernetes names, label keys and values, DNS names.

Each check returns None when the value is fine, else the reason, so a caller turns it into a
finding with its own code and field. Every pattern ends in ``\\Z``: ``$`` also matches before a
final newline, and a name with a newline in it must never pass.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.six import string_types

# The apiserver's own limits (k8s.io/apimachinery/pkg/util/validation).
LABEL_MAX = 63
SUBDOMAIN_MAX = 253

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LABEL = re.compile(r"%s\Z" % _DNS1123_LABEL)
_SUBDOMAIN = re.compile(r"%s(\.%s)*\Z" % (_DNS1123_LABEL, _DNS1123_LABEL))
# Label values and the name part of a label key ("qualified name").
_QUALIFIED = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?\Z")
# One label of a DNS name as resolvers take it: underscores allowed (_sip._tcp), any case.
_DNS_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\Z")
_CONTROL = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def control_problem(value):
    """The reason a text cannot be written into a file or object as one token, or None."""
    if not isinstance(value, string_types):
        return "%s is not a string" % type(value).__name__
    match = _CONTROL.search(value)
    if match:
        return "%r holds the control character %r" % (value, match.group(0))
    return None


def _shape_problem(value, maximum):
    problem = control_problem(value)
    if problem:
        return problem
    if not value:
        return "an empty name"
    if len(value) > maximum:
        return "%r is longer than %d characters" % (value[:40] + "...", maximum)
    return None


def label_problem(value, what="name"):
    """A DNS-1123 label (namespaces, Services, most names): lower-case letters, digits, '-'."""
    problem = _shape_problem(value, LABEL_MAX)
    if problem:
        return problem
    if not _LABEL.match(value):
        return ("%r is not a valid %s: lower-case letters, digits and '-', starting and ending with a "
                "letter or digit (DNS-1123 label)" % (value, what))
    return None


def subdomain_problem(value, what="name"):
    """A DNS-1123 subdomain (most object names, ConfigMaps, custom resources)."""
    problem = _shape_problem(value, SUBDOMAIN_MAX)
    if problem:
        return problem
    if not _SUBDOMAIN.match(value):
        return ("%r is not a valid %s: lower-case letters, digits, '-' and '.', each dot-separated part "
                "starting and ending with a letter or digit (DNS-1123 subdomain)" % (value, what))
    return None


def label_key_problem(key):
    """A label key: ``[prefix/]name``, prefix a DNS-1123 subdomain, name a qualified name."""
    problem = control_problem(key)
    if problem:
        return problem
    prefix, slash, name = key.rpartition("/")
    if slash and subdomain_problem(prefix):
        return "%r is not a valid label key: its prefix %r is not a DNS-1123 subdomain" % (key, prefix)
    if not name or len(name) > LABEL_MAX or not _QUALIFIED.match(name):
        return ("%r is not a valid label key: the name part must be 1-63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit" % (key,))
    return None


def label_value_problem(value):
    """A label value: empty, or up to 63 letters, digits, '-', '_', '.' between alphanumerics."""
    problem = control_problem(value)
    if problem:
        return problem
    if len(value) > LABEL_MAX or not _QUALIFIED.match(value):
        return ("%r is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and "
                "ending with a letter or digit" % (value,))
    return None


def dns_name_problem(value, labels=_DNS_LABEL):
    """A DNS name (a trailing dot allowed): labels of 1-63 characters, 253 in all."""
    problem = control_problem(value)
    if problem:
        return problem
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > SUBDOMAIN_MAX:
        return "%r is not a DNS name (1-253 characters)" % (value,)
    bad = [label for label in name.split(".") if not labels.match(label)]
    if bad:
        return "%r is not a DNS name: label %r is not 1-63 letters, digits, '-' or '_'" % (value, bad[0])
    return None


def is_label(value):
    return label_problem(value) is None


def is_subdomain(value):
    return subdomain_problem(value) is None
