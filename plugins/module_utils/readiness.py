# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness: what a ``kubernetes.core.k8s_info`` read says about an object a role waits for,
and why a wait failed, in words taken from what the cluster knows.

Plain data in, plain data out. The roles poll with ``until``/``retries`` through the
``wait_status`` filter and, when the wait ends without the object ready, stop with the line
``wait_failure`` builds: the object's state (conditions, desired and ready counts), the
TigeraStatus conditions for Calico, and the object's recent Events.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Events shown per failure, newest last; longer messages are cut.
MAX_EVENTS = 5
MAX_TEXT = 300


def _mapping(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _cut(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


def condition(obj, kind):
    """The condition of ``kind`` in ``obj.status.conditions``, or an empty mapping."""
    for item in _list(_mapping(_mapping(obj).get("status")).get("conditions")):
        if isinstance(item, dict) and item.get("type") == kind:
            return item
    return {}


def is_true(obj, kind):
    return str(condition(obj, kind).get("status")) == "True"


def describe_conditions(conditions, only=None):
    """``Type=Status (Reason: message)`` for each condition, or for those in ``only``."""
    parts = []
    for item in _list(conditions):
        if not isinstance(item, dict) or (only is not None and item.get("type") not in only):
            continue
        text = "%s=%s" % (item.get("type"), item.get("status"))
        reason, message = item.get("reason"), item.get("message")
        if reason or message:
            text += " (%s)" % ": ".join(_cut(p) for p in (reason, message) if p)
        parts.append(text)
    return ", ".join(parts)


def _generation_note(obj):
    generation = _int(_mapping(obj.get("metadata")).get("generation"), None)
    observed = _int(_mapping(obj.get("status")).get("observedGeneration"), None)
    if observed is None and generation is not None:
        return "no controller has reported on it yet (no observedGeneration)"
    if generation is not None and observed < generation:
        return "its controller has not seen the latest change yet (generation %s, observed %s)" % (
            generation, observed)
    return None


def _deployment(obj):
    spec, status = _mapping(obj.get("spec")), _mapping(obj.get("status"))
    desired = _int(spec.get("replicas"), 1)
    ready, available = _int(status.get("readyReplicas")), _int(status.get("availableReplicas"))
    updated, total = _int(status.get("updatedReplicas")), _int(status.get("replicas"))
    generation_note = _generation_note(obj)
    done = (generation_note is None and updated == desired and available >= desired
            and total == desired and not _int(status.get("unavailableReplicas"))
            and (not status.get("conditions") or is_true(obj, "Available")))
    notes = ["%d of %d replicas ready (%d available, %d up to date, %d in all)"
             % (ready, desired, available, updated, total)]
    if generation_note:
        notes.append(generation_note)
    conditions = describe_conditions(status.get("conditions"))
    notes.append("conditions: " + conditions if conditions else "no conditions reported")
    return done, "; ".join(notes)


def _daemonset(obj):
    status = _mapping(obj.get("status"))
    desired, ready = _int(status.get("desiredNumberScheduled")), _int(status.get("numberReady"))
    updated = _int(status.get("updatedNumberScheduled"), desired)
    available = _int(status.get("numberAvailable"), ready)
    generation_note = _generation_note(obj)
    done = (desired > 0 and generation_note is None and ready == desired and updated == desired
            and available == desired)
    if desired == 0:
        notes = ["no pod is wanted on any node (0 desired: no node matches, or its controller has not counted yet)"]
    else:
        notes = ["%d of %d pods ready (%d available, %d up to date)" % (ready, desired, available, updated)]
    if generation_note:
        notes.append(generation_note)
    conditions = describe_conditions(status.get("conditions"))
    if conditions:
        notes.append("conditions: " + conditions)
    return done, "; ".join(notes)


def _crd(obj):
    done = is_true(obj, "Established")
    conditions = describe_conditions(_mapping(obj.get("status")).get("conditions"))
    return done, "%s; %s" % ("established" if done else "not established",
                             "conditions: " + conditions if conditions else "no conditions reported")


def _webhook(obj):
    webhooks = [w for w in _list(obj.get("webhooks")) if isinstance(w, dict)]
    waiting = [str(w.get("name")) for w in webhooks
               if not _mapping(w.get("clientConfig")).get("caBundle")]
    if not webhooks:
        return False, "holds no webhook"
    if waiting:
        return False, "no CA bundle injected yet into %s (the webhook refuses requests until then)" % ", ".join(waiting)
    return True, "every webhook carries its CA bundle"


def _other(obj):
    conditions = _mapping(obj.get("status")).get("conditions")
    done = is_true(obj, "Ready") or is_true(obj, "Available")
    text = describe_conditions(conditions)
    return done, "conditions: " + text if text else "no conditions reported"


STATES = {
    "Deployment": _deployment,
    "DaemonSet": _daemonset,
    "CustomResourceDefinition": _crd,
    "ValidatingWebhookConfiguration": _webhook,
    "MutatingWebhookConfiguration": _webhook,
}


def object_state(kind, obj):
    """``(ready, words)`` for one object of ``kind`` as the API returned it."""
    return STATES.get(kind, _other)(_mapping(obj))


def wait_status(result, kind, api_version=None):
    """What one k8s_info read says about the object waited for.

    Returns ``{ready, settled, found, api_found, state}``: ``settled`` is true when polling
    longer cannot help (the object is ready, or the API server does not serve its kind),
    ``state`` says in words what the API returned.
    """
    result = _mapping(result)
    status = {"ready": False, "settled": False, "found": False, "api_found": True, "state": ""}
    if result.get("skipped"):
        status["state"] = "not read (the task was skipped)"
        return status
    if result.get("api_found") is False:
        status.update(settled=True, api_found=False,
                      state="the API server does not serve %s%s (unknown kind: a missing resource definition "
                            "or API group)" % (api_version + " " if api_version else "", kind))
        return status
    if result.get("failed"):
        status["state"] = "could not be read: %s" % _cut(result.get("msg") or "the read failed")
        return status
    resources = [r for r in _list(result.get("resources")) if isinstance(r, dict)]
    if not resources:
        status["state"] = "not found (nothing created it)"
        return status
    ready, words = object_state(kind, resources[0])
    status.update(ready=ready, settled=ready, found=True, state=words)
    return status


def _event_time(event):
    meta = _mapping(event.get("metadata"))
    return str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
               or meta.get("creationTimestamp") or "")


def recent_events(events, name, kind=None, limit=MAX_EVENTS):
    """The Events about ``name`` (and ``kind``, when given), oldest first, at most ``limit``,
    each as ``Type Reason: message (xN)``. ``events`` is a list of Event objects or k8s_info
    results (their ``resources``)."""
    items = []
    for entry in _list(events):
        if isinstance(entry, dict) and "resources" in entry:
            items.extend(r for r in _list(entry.get("resources")) if isinstance(r, dict))
        elif isinstance(entry, dict):
            items.append(entry)
    about = []
    for event in items:
        involved = _mapping(event.get("involvedObject") or event.get("regarding"))
        if involved.get("name") != name or (kind and involved.get("kind") not in (None, kind)):
            continue
        about.append(event)
    about.sort(key=_event_time)
    lines = []
    for event in about[-limit:] if limit else []:
        line = "%s %s: %s" % (event.get("type") or "Normal", event.get("reason") or "(no reason)",
                              _cut(event.get("message") or event.get("note") or ""))
        count = _int(event.get("count") or _mapping(event.get("series")).get("count"), 1)
        lines.append(line + (" (x%d)" % count if count > 1 else ""))
    return lines


def tigera_status_words(tigerastatus):
    """What the Tigera operator reports, from TigeraStatus objects (or a k8s_info result of
    them): each component's Degraded condition with its reason and message, otherwise whether it
    is Available and Progressing."""
    if isinstance(tigerastatus, dict) and "resources" in tigerastatus:
        if tigerastatus.get("api_found") is False:
            return "TigeraStatus: the API server does not serve operator.tigera.io/v1 TigeraStatus " \
                   "(the operator's resource definitions are missing)"
        tigerastatus = tigerastatus.get("resources")
    items = [t for t in _list(tigerastatus) if isinstance(t, dict)]
    if not items:
        return "TigeraStatus: none reported (is the Tigera operator running?)"
    parts = []
    for item in sorted(items, key=lambda t: str(_mapping(t.get("metadata")).get("name"))):
        name = _mapping(item.get("metadata")).get("name")
        conditions = _mapping(item.get("status")).get("conditions")
        if is_true(item, "Degraded"):
            text = describe_conditions(conditions, only=("Degraded",))
        else:
            text = describe_conditions(conditions, only=("Available", "Progressing", "Degraded"))
        parts.append("%s: %s" % (name, text or "no conditions reported"))
    return "TigeraStatus " + "; ".join(parts)


def subject(kind, name, namespace=None):
    return "%s %s%s" % (kind, namespace + "/" if namespace else "", name)


def wait_failure(result, code, kind, name, namespace=None, api_version=None, timeout=None,
                 timeout_var=None, events=None, tigerastatus=None, hint=None):
    """The line a failed wait stops with, or ``""`` when the object is ready.

    ``[code] Kind namespace/name: state within timeout_var (N s); hint; TigeraStatus ...;
    events: ...`` where the state comes from ``wait_status``. An unknown kind is said at once:
    the role does not wait for it.
    """
    status = wait_status(result, kind, api_version)
    if status["ready"]:
        return ""
    parts = [status["state"]]
    if status["api_found"] and timeout is not None:
        parts[0] += " within %s(%s s)" % (timeout_var + " " if timeout_var else "", timeout)
    if hint:
        parts.append(str(hint))
    if tigerastatus is not None:
        parts.append(tigera_status_words(tigerastatus))
    if events is not None and status["api_found"]:
        lines = recent_events(events, name, kind)
        parts.append("recent events: " + " | ".join(lines) if lines else "no events about it")
    return "[%s] %s: %s" % (code, subject(kind, name, namespace), "; ".join(parts))
