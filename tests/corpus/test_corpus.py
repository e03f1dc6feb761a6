"""The bad-input corpus: every case refused with exactly its codes, no crash, nothing written.

Each file under ``cases/`` is one site: ``vars`` (laid over ``base.yml``, a valid site, and
that over the defaults of the compute_network, calico, metallb and coredns roles) and
``expect``, the exact set of finding codes (errors and warnings) the run must report.
A case with ``expect_message`` is one that Ansible's argument spec refuses before any rule
of the collection runs: it has no code, and must fail with that text.

All cases run in ONE ansible-playbook run of ``corpus.yml``, one inventory host per case.
The collection's playbooks take some inputs from a live cluster or from the probe (live
pools, assigned LoadBalancer IPs, addresses in use), which a case must set, so ``corpus.yml``
calls the modules per host with the options the roles pass. Cases marked
``real: validate`` or ``real: render`` also go through playbooks/validate.yml or
playbooks/render.yml themselves, one site per run.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CASES = sorted(glob.glob(os.path.join(HERE, "cases", "*.yml")))
ROLES = ("compute_network", "calico", "metallb", "coredns", "verify")
BUNDLE_FILES = ("20-calico.yaml", "40-metallb.yaml", "50-coredns.yaml", "90-verify.yaml")
# A failed task without findings (a filter, a role's fail task) gives its code at the start of its
# message, or, for a filter, where Ansible quotes the filter's own message ("... failed: <code>: ").
MESSAGE_CODE = re.compile(r"(?:^|failed: )\[?([a-z][a-z0-9_]*)\]?: ")
TRACEBACK = "Traceback (most recent call last)"
# A password some cases give a BGP peer: it must never show in any output.
SECRET = "s3cret-not-printed"

# What every case's codes must come from (docs/codes*.md), so a typo in a case fails here.
DOCS = sorted(glob.glob(os.path.join(ROOT, "docs", "codes*.md")))


def _load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def _name(path):
    return os.path.splitext(os.path.basename(path))[0]


def _defaults():
    merged = {}
    for role in ROLES:
        merged.update(_load(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) or {})
    return merged


def _site_vars(case, bundle_dir):
    site = dict(_load(os.path.join(HERE, "base.yml")))
    site.update(case["vars"])
    site.update({
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "k8s_network_bundle_dir": bundle_dir,
    })
    return site


def _env(workdir, results=None):
    env = dict(os.environ)
    home = env.get("HOME") if os.environ.get("ANSIBLE_LOCAL_TMP") else os.path.join(workdir, "home")
    env.update({
        "HOME": home,
        "ANSIBLE_LOCAL_TMP": os.path.join(home, ".ansible", "tmp"),
        "ANSIBLE_REMOTE_TMP": os.path.join(home, ".ansible", "tmp"),
        "ANSIBLE_COLLECTIONS_PATH": env.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "collections")),
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "corpus_findings",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORKS": "8",
        "ANSIBLE_PIPELINING": "1",
    })
    if results:
        env["CORPUS_RESULTS"] = results
    return env


def _ansible_playbook():
    local = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return local if os.path.exists(local) else "ansible-playbook"


def _run(playbook, inventory, workdir, results):
    proc = subprocess.run([_ansible_playbook(), "-i", inventory, playbook], cwd=ROOT, env=_env(workdir, results),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=600, check=False)
    with open(results) as handle:
        return proc, json.load(handle)


def _codes(entries):
    codes = set(f["code"] for entry in entries for f in entry["findings"])
    for entry in entries:
        match = MESSAGE_CODE.search(entry["msg"]) if entry["status"] == "failed" and not entry["findings"] else None
        if match:
            codes.add(match.group(1))
    return codes


def _documented_codes():
    codes = set()
    for doc in DOCS:
        with open(doc) as handle:
            for line in handle:
                if line.startswith("| `"):
                    codes.add(line.split("`")[1])
    return codes


@pytest.fixture(scope="session")
def workdir():
    path = tempfile.mkdtemp(prefix="corpus-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def corpus_run(workdir):
    """All cases in one run of corpus.yml; meanwhile the real-playbook samples, one run each."""
    hosts = {}
    for path in CASES:
        case = _load(path)
        hosts[_name(path)] = _site_vars(case, os.path.join(workdir, "bundles", _name(path)))
    inventory = os.path.join(workdir, "corpus.yml")
    group_vars = dict(_defaults(), corpus_roles_dir=os.path.join(ROOT, "roles"))
    with open(inventory, "w") as handle:
        yaml.safe_dump({"all": {"vars": group_vars, "children": {"corpus": {"hosts": hosts}}}}, handle)

    samples = [(path, _load(path)["real"]) for path in CASES if _load(path).get("real")]
    with ThreadPoolExecutor(max_workers=3) as pool:
        main = pool.submit(_run, os.path.join(HERE, "corpus.yml"), inventory, workdir,
                           os.path.join(workdir, "corpus-results.json"))
        real = dict((_name(path), pool.submit(_real_run, path, playbook, workdir)) for path, playbook in samples)
        return {"main": main.result(), "real": dict((k, v.result()) for k, v in real.items()), "workdir": workdir}


def _real_run(path, playbook, workdir):
    name = _name(path)
    case = _load(path)
    bundle = os.path.join(workdir, "real-bundles", name)
    inventory = os.path.join(workdir, "real-%s.yml" % name)
    with open(inventory, "w") as handle:
        yaml.safe_dump({"all": {"children": {"edge_nodes": {"hosts": {"edge-1": _site_vars(case, bundle)}}}}}, handle)
    proc, results = _run(os.path.join(ROOT, "playbooks", playbook + ".yml"), inventory, workdir,
                         os.path.join(workdir, "real-%s.json" % name))
    return proc, results, bundle


def test_corpus_is_large_and_covers_every_code():
    assert len(CASES) >= 80
    expected = set()
    for path in CASES:
        expected.update(_load(path)["expect"])
    documented = _documented_codes()
    assert expected <= documented, "codes in cases that no doc lists: %s" % sorted(expected - documented)
    # Every code of the compute network check (docs/codes.md, its first table) has a case.
    with open(os.path.join(ROOT, "docs", "codes.md")) as handle:
        section = handle.read().split("## Probe")[0]
    check_codes = set(line.split("`")[1] for line in section.splitlines() if line.startswith("| `"))
    assert check_codes - expected == set()


def test_run_has_no_traceback_and_no_secret(corpus_run):
    proc, _results = corpus_run["main"]
    assert TRACEBACK not in proc.stdout
    assert SECRET not in proc.stdout
    assert "PLAY RECAP" in proc.stdout, proc.stdout[-3000:]


@pytest.mark.parametrize("path", CASES, ids=[_name(p) for p in CASES])
def test_case(corpus_run, path):
    case = _load(path)
    name = _name(path)
    _proc, results = corpus_run["main"]
    entries = results[name]
    assert [e for e in entries if e["crash"]] == []
    assert all(TRACEBACK not in e["msg"] + e["exception"] for e in entries)
    assert all("MODULE FAILURE" not in e["msg"] for e in entries)
    failed = [e for e in entries if e["status"] == "failed"]
    assert len(failed) == 1, "the case must stop exactly one module: %r" % [(e["task"], e["msg"]) for e in entries]
    assert _codes(entries) == set(case["expect"])
    if case.get("expect_message"):
        assert case["expect_message"] in failed[0]["msg"]

    # Nothing past the refusing step was written: no bundle at all when the check refuses,
    # and neither the refusing renderer's file nor any later one otherwise.
    bundle = os.path.join(corpus_run["workdir"], "bundles", name)
    order = ["edgeops.k8s_network.compute_network_check", "edgeops.k8s_network.calico_config",
             "edgeops.k8s_network.metallb_config", "edgeops.k8s_network.coredns_config",
             "edgeops.k8s_network.verify_config", "edgeops.k8s_network.compute_ip_probe", "ansible.builtin.set_fact"]
    step = order.index(failed[0]["action"])
    if step == 0:
        assert not os.path.exists(bundle)
    else:
        written = sorted(os.listdir(bundle)) if os.path.isdir(bundle) else []
        assert written == list(BUNDLE_FILES[:step - 1])


REAL = [p for p in CASES if _load(p).get("real")]


@pytest.mark.parametrize("path", REAL, ids=[_name(p) for p in REAL])
def test_case_through_the_real_playbook(corpus_run, path):
    case = _load(path)
    proc, results, bundle = corpus_run["real"][_name(path)]
    assert TRACEBACK not in proc.stdout
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert _codes(results["edge-1"]) == set(case["expect"])
    # validate.yml writes nothing ever; render.yml nothing when the check or Calico (the first
    # writer) refuses. A later refusal: see test_render_playbook_leaves_no_partial_bundle.
    if _refusing_step(results["edge-1"]) in (["compute_network_check"], ["calico_config"]):
        assert not os.path.exists(bundle)


def _refusing_step(entries):
    return [e["action"].split(".")[-1] for e in entries if e["status"] == "failed"]


LATE = [p for p in REAL if _load(p)["real"] == "render" and _load(p)["expect"]
        and _name(p).split("_")[0] in ("metallb", "coredns", "verify")]


@pytest.mark.parametrize("path", LATE, ids=[_name(p) for p in LATE])
def test_render_playbook_leaves_no_partial_bundle(corpus_run, path):
    proc, results, bundle = corpus_run["real"][_name(path)]
    assert proc.returncode == 2
    assert _refusing_step(results["edge-1"]) in (["metallb_config"], ["coredns_config"], ["verify_config"])
    assert not os.path.exists(bundle) or os.listdir(bundle) == []
