"""Benchmarks of the compute network check, side by side with baselines, in one run.

(a) ``check_compute_network`` in process, on 1..1,000 ranges and on single ranges from
    /30 to /8, against two baselines doing the same overlap and containment questions:
    ``expand`` (every range expanded to its addresses, the way a script with address lists
    does it) and ``ipset`` (netaddr.IPSet). Best-of-N time and tracemalloc peak.
(b) A fleet of 1, 50 and 200 sites (one inventory host per site, local connection):
    the collection's check per site, a render per site, a ping floor, a Jinja-assert
    baseline (tests/perf/jinja_assert.yml) and the real playbooks/validate.yml and
    playbooks/render.yml, each by wall clock of the whole ansible-playbook run.

Run with ``make bench`` (or ``python tests/perf/bench.py --help``). Not a test: it prints
tables and asserts only that each baseline answers as the check does.
"""

import argparse
import gc
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))

import netaddr  # noqa: E402  (after the path set-up, like the tests' conftest)

from ansible_collections.edgeops.k8s_network.plugins.module_utils.compute_network import (  # noqa: E402
    check_compute_network,
)

ROLES = ("compute_network", "calico", "metallb", "coredns")


# ---------------------------------------------------------------------------
# Part (a): the check in process.
# ---------------------------------------------------------------------------

def _addr(value):
    return str(netaddr.IPAddress(value))


def settings_many(count):
    """``count`` node ranges and ``count`` service ranges, all disjoint, in 10.0.0.0/8."""
    nodes, services = [], []
    for i in range(count):
        base = (10 << 24) + ((i + 1) << 8)  # one /24 of 10.0.0.0/8 per index
        nodes.append("%s-%s" % (_addr(base + 10), _addr(base + 13)))
        services.append("%s-%s" % (_addr(base + 100), _addr(base + 119)))
    return {
        "node_ips": nodes, "external_service_ips": services, "subnet": "10.0.0.0/8",
        "gateway": "10.0.0.1", "dns_servers": ["10.0.0.2"], "pod_cidr": "172.16.0.0/16",
        "service_cidr": "172.20.0.0/16", "node_count": 1, "mtu": 1500,
    }


def settings_wide(prefix):
    """One node range and one service range, each a whole /prefix, inside 8.0.0.0/6."""
    size = 2 ** (32 - prefix)
    node_first = 9 << 24
    service_first = 10 << 24
    return {
        "node_ips": ["%s-%s" % (_addr(node_first), _addr(node_first + size - 1))],
        "external_service_ips": ["%s-%s" % (_addr(service_first), _addr(service_first + size - 1))],
        "subnet": "8.0.0.0/6", "gateway": "8.0.0.1", "dns_servers": ["8.0.0.2"],
        "pod_cidr": "172.16.0.0/16", "service_cidr": "172.20.0.0/16", "node_count": 1, "mtu": 1500,
    }


def _ranges(values):
    result = []
    for value in values:
        first, last = value.split("-")
        result.append(netaddr.IPRange(first, last))
    return result


def answers_of_check(settings):
    """The questions both baselines answer, read off the check's findings."""
    _network, findings = check_compute_network(settings)
    codes = [f["code"] for f in findings]
    return {
        "nodes_outside": "node_ips_outside_subnet" in codes,
        "services_outside": "service_ips_outside_subnet" in codes,
        "ranges_overlap": "ranges_overlap" in codes,
        "cidr_overlap": "cidr_overlap" in codes,
        "too_few": "node_ips_too_few" in codes,
    }


def answers_by_expansion(settings):
    """The same questions with every range expanded to its addresses (as integers)."""
    subnet = netaddr.IPNetwork(settings["subnet"])
    pod = netaddr.IPNetwork(settings["pod_cidr"])
    service = netaddr.IPNetwork(settings["service_cidr"])
    node_lists = [list(range(r.first, r.last + 1)) for r in _ranges(settings["node_ips"])]
    service_lists = [list(range(r.first, r.last + 1)) for r in _ranges(settings["external_service_ips"])]
    node_set = set(a for addresses in node_lists for a in addresses)
    service_set = set(a for addresses in service_lists for a in addresses)
    dns = set(int(netaddr.IPAddress(a)) for a in settings["dns_servers"])

    def inside(addresses, network):
        return all(network.first <= a <= network.last for a in addresses)

    def touches(addresses, network):
        return any(network.first <= a <= network.last for a in addresses)

    nets = (pod, service, subnet)
    cidr_overlap = any(a.first <= b.last and b.first <= a.last for i, a in enumerate(nets) for b in nets[i + 1:])
    cidr_overlap = cidr_overlap or any(touches(s, n) for s in (node_set, service_set, dns) for n in (pod, service))
    cidr_overlap = cidr_overlap or bool(dns & (node_set | service_set))
    return {
        "nodes_outside": not inside(node_set, subnet),
        "services_outside": not inside(service_set, subnet),
        "ranges_overlap": (bool(node_set & service_set) or len(node_set) != sum(map(len, node_lists))
                           or len(service_set) != sum(map(len, service_lists))),
        "cidr_overlap": cidr_overlap,
        "too_few": len(node_set) < settings["node_count"] + 1,
    }


def answers_by_ipset(settings):
    """The same questions with netaddr.IPSet (CIDR lists: no per-address expansion)."""
    subnet = netaddr.IPSet([settings["subnet"]])
    pod = netaddr.IPSet([settings["pod_cidr"]])
    service = netaddr.IPSet([settings["service_cidr"]])
    node_ranges = _ranges(settings["node_ips"])
    service_ranges = _ranges(settings["external_service_ips"])
    # Built in one go from CIDRs: IPSet.add() per range re-merges the whole set each time,
    # which takes minutes for 1,000 ranges.
    nodes = netaddr.IPSet([c for r in node_ranges for c in r.cidrs()])
    node_total = sum(r.size for r in node_ranges)
    services = netaddr.IPSet([c for r in service_ranges for c in r.cidrs()])
    service_total = sum(r.size for r in service_ranges)
    dns = netaddr.IPSet(settings["dns_servers"])
    pairs = [(pod, service), (pod, subnet), (service, subnet), (pod, nodes), (service, nodes),
             (pod, services), (service, services), (pod, dns), (service, dns), (nodes, dns), (services, dns)]
    return {
        "nodes_outside": not nodes.issubset(subnet),
        "services_outside": not services.issubset(subnet),
        "ranges_overlap": bool(nodes & services) or nodes.size != node_total or services.size != service_total,
        "cidr_overlap": any(bool(a & b) for a, b in pairs),
        "too_few": nodes.size < settings["node_count"] + 1,
    }


IMPLEMENTATIONS = (("check", answers_of_check), ("ipset", answers_by_ipset), ("expand", answers_by_expansion))


def best_time(func, arg, repeat, budget):
    """Best wall time of ``repeat`` calls, stopping early once ``budget`` seconds are spent."""
    best = None
    spent = 0.0
    for _attempt in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func(arg)
        elapsed = time.perf_counter() - start
        spent += elapsed
        best = elapsed if best is None else min(best, elapsed)
        if spent > budget:
            break
    return best


def peak_memory(func, arg):
    gc.collect()
    tracemalloc.start()
    try:
        func(arg)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def addresses_of(settings):
    return sum(r.size for r in _ranges(settings["node_ips"]) + _ranges(settings["external_service_ips"]))


def measure_inputs(label, inputs, repeat, max_expand):
    rows = []
    for key, settings in inputs:
        row = {"input": key, "addresses": addresses_of(settings)}
        reference = answers_of_check(settings)
        for name, func in IMPLEMENTATIONS:
            if name == "expand" and row["addresses"] > max_expand:
                row[name] = None
                continue
            answers = func(settings)
            if answers != reference:
                raise AssertionError("%s answers %r, the check %r on %s %s" % (name, answers, reference, label, key))
            row[name] = {"time": best_time(func, settings, repeat, budget=5.0), "peak": peak_memory(func, settings)}
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# Part (b): the fleet.
# ---------------------------------------------------------------------------

def site_vars(index):
    """A distinct, valid single-node site per index (its own /24 and sizes)."""
    third, fourth = divmod(index, 250)
    net = "10.%d.%d" % (third, fourth)
    nodes = 2 + index % 3
    services = 10 + index % 20
    return {
        "compute_network_interface": "eth1",
        "compute_network_node_ips": "%s.11-%s.%d" % (net, net, 10 + nodes),
        "compute_network_external_service_ips": "%s.100-%s.%d" % (net, net, 99 + services),
        "compute_network_subnet": "%s.0/24" % net,
        "compute_network_gateway": "%s.1" % net,
        "compute_network_dns_servers": "%s.2" % net,
        "compute_network_pod_cidr": "172.%d.0.0/16" % (16 + index % 8),
        "compute_network_service_cidr": "172.28.0.0/16",
        "compute_network_mtu": 1500 - 50 * (index % 2),
        "compute_network_gather_nodes": False,
        "compute_network_probe": False,
        "k8s_network_mode": "bundle",
    }


def write_inventory(path, count, bundle_root):
    defaults = {}
    for role in ROLES:
        with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) as handle:
            defaults.update(yaml.safe_load(handle) or {})
    hosts = {}
    for i in range(count):
        name = "site-%04d" % i
        hosts[name] = dict(site_vars(i), k8s_network_cluster=name, ansible_connection="local",
                           ansible_python_interpreter="{{ ansible_playbook_python }}",
                           k8s_network_bundle_dir=os.path.join(bundle_root, name))
    group_vars = dict(defaults, corpus_roles_dir=os.path.join(ROOT, "roles"))
    inventory = {"all": {"vars": group_vars, "children": {"edge_nodes": {"hosts": hosts},
                                                          "corpus": {"hosts": dict((h, {}) for h in hosts)}}}}
    with open(path, "w") as handle:
        yaml.safe_dump(inventory, handle)


FLEET_PLAYS = (
    ("ping floor", os.path.join(HERE, "fleet_ping.yml")),
    ("check per site", os.path.join(HERE, "fleet_check.yml")),
    ("jinja asserts", os.path.join(HERE, "jinja_assert.yml")),
    ("render per site", os.path.join(ROOT, "tests", "corpus", "corpus.yml")),
    ("validate.yml", os.path.join(ROOT, "playbooks", "validate.yml")),
    ("render.yml", os.path.join(ROOT, "playbooks", "render.yml")),
)


def ansible_env(workdir, forks):
    env = dict(os.environ)
    home = os.path.join(workdir, "home")
    env.update({
        "HOME": home,
        "ANSIBLE_LOCAL_TMP": os.path.join(home, ".ansible", "tmp"),
        "ANSIBLE_REMOTE_TMP": os.path.join(home, ".ansible", "tmp"),
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".build", "collections"),
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_FORKS": str(forks),
        "ANSIBLE_NOCOLOR": "1",
    })
    return env


def run_play(playbook, inventory, env):
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, playbook]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    elapsed = time.perf_counter() - start
    recap = [line for line in proc.stdout.splitlines() if " : ok=" in line]
    failed = sum(1 for line in recap if "failed=0" not in line)
    return elapsed, proc.returncode, failed, proc.stdout


def preflight(workdir, env):
    """Both per-site checks must refuse a bad site, or timing them means nothing."""
    inventory = os.path.join(workdir, "bad.yml")
    write_inventory(inventory, 1, os.path.join(workdir, "bad-bundles"))
    with open(inventory) as handle:
        data = yaml.safe_load(handle)
    data["all"]["children"]["edge_nodes"]["hosts"]["site-0000"]["compute_network_service_cidr"] = "172.16.0.0/12"
    with open(inventory, "w") as handle:
        yaml.safe_dump(data, handle)
    for playbook in (os.path.join(HERE, "fleet_check.yml"), os.path.join(HERE, "jinja_assert.yml"),
                     os.path.join(ROOT, "playbooks", "validate.yml")):
        _elapsed, returncode, _failed, output = run_play(playbook, inventory, env)
        if returncode != 2:
            raise AssertionError("%s let a pod CIDR inside the service CIDR through:\n%s" % (playbook, output[-2000:]))


def measure_fleet(sizes, repeat, repeat_large, forks, workdir):
    env = ansible_env(workdir, forks)
    preflight(workdir, env)
    rows = []
    for count in sizes:
        inventory = os.path.join(workdir, "fleet-%d.yml" % count)
        for label, playbook in FLEET_PLAYS:
            times = []
            for attempt in range(repeat if count < 100 else repeat_large):
                bundles = os.path.join(workdir, "bundles-%d-%s-%d" % (count, label.split()[0], attempt))
                write_inventory(inventory, count, bundles)
                elapsed, returncode, failed, output = run_play(playbook, inventory, env)
                times.append(elapsed)
                shutil.rmtree(bundles, ignore_errors=True)
            note = "ok" if returncode == 0 else "rc=%d, %d host(s) failed" % (returncode, failed)
            if returncode != 0 and label in ("validate.yml", "render.yml"):
                codes = sorted(set(word.strip("[]") for word in output.split() if word.startswith("[")
                                   and word.endswith("]") and word.strip("[]").islower() and "_" in word))
                note += " " + ",".join(codes[:3])
            rows.append({"sites": count, "play": label, "time": min(times), "note": note})
            print("  %4d sites  %-16s %8.2f s  %s" % (count, label, min(times), note), file=sys.stderr)
    return rows


# ---------------------------------------------------------------------------
# Report.
# ---------------------------------------------------------------------------

def _fmt_time(seconds):
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return "%.1f us" % (seconds * 1e6)
    if seconds < 1:
        return "%.2f ms" % (seconds * 1e3)
    return "%.2f s" % seconds


def _fmt_bytes(count):
    if count is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return "%.0f %s" % (count, unit) if unit == "B" else "%.1f %s" % (count, unit)
        count /= 1024.0


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return "%.1fx" % (a / b)


def print_check_table(title, rows, max_expand):
    print("\n### %s\n" % title)
    print("| input | addresses | check time | check peak | ipset time | ipset peak | expand time | expand peak "
          "| check growth (time, mem) | expand growth (time, mem) | expand / check (time) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    first = rows[0]
    for row in rows:
        cells = [row["input"], "{:,}".format(row["addresses"])]
        for name in ("check", "ipset", "expand"):
            value = row[name]
            cells += [_fmt_time(value and value["time"]), _fmt_bytes(value and value["peak"])]
        for name in ("check", "expand"):
            if row[name] and first[name]:
                cells.append("%s, %s" % (_ratio(row[name]["time"], first[name]["time"]),
                                         _ratio(row[name]["peak"], first[name]["peak"])))
            else:
                cells.append("not run (> {:,} addresses)".format(max_expand) if name == "expand" else "-")
        cells.append(_ratio(row["expand"]["time"], row["check"]["time"]) if row["expand"] else "-")
        print("| " + " | ".join(cells) + " |")


def print_fleet_table(rows):
    by = dict(((r["sites"], r["play"]), r) for r in rows)
    sizes = sorted(set(r["sites"] for r in rows))
    print("\n### Fleet: whole ansible-playbook run (best of the repeats)\n")
    print("| sites | play | total | per site | marginal per site | / ping floor (per site) | outcome |")
    print("|---:|---|---:|---:|---:|---:|---|")
    smallest = sizes[0]
    for count in sizes:
        floor = by[(count, "ping floor")]["time"] / count
        for label, _playbook in FLEET_PLAYS:
            row = by[(count, label)]
            per_site = row["time"] / count
            marginal = "-"
            if count > smallest and row["note"] == "ok":
                marginal = _fmt_time((row["time"] - by[(smallest, label)]["time"]) / (count - smallest))
            cells = (count, label, _fmt_time(row["time"]), _fmt_time(per_site), marginal, _ratio(per_site, floor),
                     row["note"])
            print("| %d | %s | %s | %s | %s | %s | %s |" % cells)
    print("\n### Fleet targets\n")
    print("| sites | validate.yml / ping floor (target <= 1.5x) | check per site / ping floor "
          "| jinja asserts / check per site (target >= 5x) | jinja asserts / validate.yml |")
    print("|---:|---:|---:|---:|---:|")
    for count in sizes:
        floor = by[(count, "ping floor")]["time"]
        validate = by[(count, "validate.yml")]["time"]
        check = by[(count, "check per site")]["time"]
        jinja = by[(count, "jinja asserts")]["time"]
        print("| %d | %s | %s | %s | %s |" % (count, _ratio(validate, floor), _ratio(check, floor),
                                              _ratio(jinja, check), _ratio(jinja, validate)))


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ansible = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "--version"],
                             stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.splitlines()[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "ansible": ansible,
            "netaddr": netaddr.__version__, "load": " ".join("%.2f" % x for x in os.getloadavg())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=7, help="best of N for the in-process check (default 7)")
    parser.add_argument("--fleet-repeat", type=int, default=2, help="best of N for each fleet run (default 2)")
    parser.add_argument("--fleet-repeat-large", type=int, default=1,
                        help="best of N for fleets of 100 sites or more (default 1)")
    parser.add_argument("--sites", default="1,50,200", help="fleet sizes (default 1,50,200)")
    parser.add_argument("--forks", type=int, default=10, help="ansible forks for the fleet (default 10)")
    parser.add_argument("--max-expand", type=int, default=2 ** 21,
                        help="largest address count the expanding baseline is run on (default 2^21)")
    parser.add_argument("--skip-fleet", action="store_true")
    parser.add_argument("--skip-check", action="store_true")
    parser.add_argument("--json", help="also write the raw numbers here")
    args = parser.parse_args()

    info = machine()
    print("## edgeops.k8s_network benchmarks\n")
    print("- CPU: %(cpu)s, %(cores)d cores; Python %(python)s; %(ansible)s; netaddr %(netaddr)s" % info)
    print("- load average at start: %(load)s" % info)
    results = {"machine": info}

    if not args.skip_check:
        many = measure_inputs("ranges", [("%d ranges" % n, settings_many(n)) for n in (1, 10, 100, 1000)],
                              args.repeat, args.max_expand)
        wide = measure_inputs("prefix", [("/%d" % p, settings_wide(p)) for p in (30, 24, 20, 16, 12, 8)],
                              args.repeat, args.max_expand)
        results.update({"ranges": many, "prefix": wide})
        print_check_table("Check on growing numbers of ranges (node and service ranges each; best of %d)"
                          % args.repeat, many, args.max_expand)
        print_check_table("Check on one node and one service range of growing size (best of %d)" % args.repeat,
                          wide, args.max_expand)

    if not args.skip_fleet:
        workdir = tempfile.mkdtemp(prefix="bench-")
        try:
            sizes = [int(s) for s in args.sites.split(",")]
            fleet = measure_fleet(sizes, args.fleet_repeat, args.fleet_repeat_large, args.forks, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        results["fleet"] = fleet
        print_fleet_table(fleet)
        print("\nForks %d, local connection, the repository's ansible.cfg; best of %d runs each (%d from 100 sites)."
              % (args.forks, args.fleet_repeat, args.fleet_repeat_large))

    print("- load average at end: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
