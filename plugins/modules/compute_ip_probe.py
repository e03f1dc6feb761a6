#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compute_ip_probe
short_description: Find hosts already answering on compute network addresses
version_added: 0.1.0
description:
  - Runs on an edge node and asks, over the compute interface, whether any host already answers
    on the addresses meant for Kubernetes node IPs or external service IPs, the way an
    Azure Stack Edge device warns about duplicate IPs before it configures compute.
  - C(arp) sends one ARP duplicate-address-detection probe per address with C(arping -D)
    (from 0.0.0.0, so the interface needs no address and no neighbour learns a new entry).
    It finds any host on the segment, even one whose firewall drops ICMP.
  - C(icmp) sends one echo request per address with C(ping) and then reads the MAC of the
    answering host from the neighbour table (C(ip neigh)) when the address is on the link.
  - Read-only. The module never changes the node, so it also runs in check mode, and
    C(changed) is always false.
  - The work is bounded before it starts. The number of addresses left after I(exclude) is
    computed on ranges, without listing them, and the module fails when it exceeds
    I(max_addresses). At most I(concurrency) probes run at once. Each address costs at most
    about I(timeout) seconds per method.
  - A probe that cannot run (interface down, no permission, no route) fails the module, because
    an address the probe could not ask about must never be reported as free.
  - Needs only the Python standard library, iproute2 (C(ip)), and the iputils tools of the
    chosen methods (C(arping) from iputils-arping, C(ping) from iputils-ping). It must run as
    root, or with the capabilities these tools need, so use C(become) where needed.
  - Input problems are reported all at once, each as a finding with a stable C(code).
author:
  - edgeops maintainers (@edgeops)
options:
  addresses:
    description:
      - Addresses to probe, as ranges C(a.b.c.d-a.b.c.e), CIDRs, or single IPv4 addresses, in a
        list or a comma-separated string. Overlaps are probed once.
      - A CIDR of /30 or wider loses its network and broadcast address; a range is taken as written.
      - An empty list probes nothing.
    type: list
    elements: str
    required: true
  interface:
    description:
      - The compute interface of this node. Probes leave through it only. It must exist and be up.
    type: str
    required: true
  methods:
    description:
      - How to ask. An address counts as in use when any method gets an answer.
    type: list
    elements: str
    choices: [arp, icmp]
    default: [arp, icmp]
  exclude:
    description:
      - Addresses that are ours (this cluster's nodes, services already assigned), in the same
        forms as I(addresses). They are not probed and do not count against I(max_addresses).
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds to wait for an answer, per address and method. More than 0, at most 30.
      - C(arping) takes whole seconds only, so it gets the value rounded up.
        C(ping) gets it as given; iputils older than 20210202 accept whole seconds only.
    type: float
    default: 1
  max_addresses:
    description:
      - Most addresses one run may probe, after I(exclude). Between 1 and 65536.
        The module fails with C(too_many_addresses), before sending anything, when there are more.
    type: int
    default: 256
  concurrency:
    description:
      - Most addresses probed at the same time. Between 1 and 64.
    type: int
    default: 16
notes:
  - Send probes only to address ranges you are responsible for. Probing other people's networks
    may be unwelcome.
  - "An empty C(in_use) means that no host answered within I(timeout). A host that ignores both
    ARP and ICMP, or one that is switched off, still goes unnoticed."
  - "Failure codes: C(invalid_address), C(range_reversed), C(mixed_family), C(ipv6_unsupported),
    C(host_bits_set), C(address_not_unicast), C(invalid_option), C(too_many_addresses),
    C(interface_missing), C(interface_down), C(tool_missing), C(probe_failed)."
  - Use the result as the I(in_use) option of M(edgeops.k8s_network.compute_network_check), which
    turns each answer inside the node or external service IPs into an C(address_in_use) finding.
requirements:
  - iproute2 (C(ip)) on the node
  - iputils-arping (C(arping)) for the C(arp) method
  - iputils-ping (C(ping)) for the C(icmp) method
attributes:
  check_mode:
    support: full
    description: The module only reads; it probes in check mode too.
  diff_mode:
    support: none
    description: Nothing is changed.
"""

EXAMPLES = r"""
- name: Probe the node and external service IPs from the first node
  edgeops.k8s_network.compute_ip_probe:
    interface: eth1
    addresses:
      - 192.168.10.11-192.168.10.13
      - 192.168.10.100-192.168.10.119
    exclude: "{{ ansible_facts['eth1']['ipv4']['address'] }}"
  become: true
  run_once: true
  register: probe

- name: Show who squats on our addresses
  ansible.builtin.debug:
    msg: "{{ item.address }} answers ({{ item.methods | join(', ') }}) from {{ item.mac | default('an unknown MAC', true) }}"
  loop: "{{ probe.in_use }}"

- name: Probe a small CIDR with ARP only, faster
  edgeops.k8s_network.compute_ip_probe:
    interface: eth1
    addresses: 192.168.10.96/28
    methods: arp
    concurrency: 14
  become: true
  register: arp_only

- name: Stop when anything answers
  ansible.builtin.assert:
    that: arp_only.in_use | length == 0
    fail_msg: "in use: {{ arp_only.in_use | map(attribute='address') | join(', ') }}"
"""

RETURN = r"""
in_use:
  description:
    - One entry per address that answered, sorted by address.
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: The address that answered.
      type: str
      sample: 192.168.10.105
    method:
      description:
        - The first method, in the order of I(methods), that got an answer.
      type: str
      sample: arp
    methods:
      description:
        - Every method that got an answer, in the order of I(methods).
          An address in C(arp) but not C(icmp) is a host that drops ping.
      type: list
      elements: str
      sample: [arp, icmp]
    mac:
      description:
        - MAC address of the answering host, lower-case, from the ARP reply or else from the
          neighbour table after a ping. Null when unknown (for instance a host that answers
          ping through a router).
      type: str
      sample: "f2:31:bb:3c:13:37"
probed:
  description: How many addresses were probed (after I(exclude)).
  returned: always
  type: int
  sample: 33
methods:
  description: The methods used, in order.
  returned: always
  type: list
  elements: str
  sample: [arp, icmp]
interface:
  description: The interface probed through.
  returned: always
  type: str
  sample: eth1
findings:
  description:
    - Problems that stopped the probe, each with a stable C(code) (see the notes). Empty on success.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: Stable code.
      type: str
      sample: too_many_addresses
    severity:
      description: Always C(error) here.
      type: str
      sample: error
    field:
      description: The option concerned.
      type: str
      sample: addresses
    message:
      description: What is wrong.
      type: str
      sample: 1022 addresses to probe, more than max_addresses (256)
"""

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.edgeops.k8s_network.plugins.module_utils import probe
from ansible_collections.edgeops.k8s_network.plugins.module_utils.arguments import ansible_module
from ansible_collections.edgeops.k8s_network.plugins.module_utils.findings import finding, report

ARGUMENT_SPEC = dict(
    addresses=dict(type="list", elements="str", required=True),
    interface=dict(type="str", required=True),
    methods=dict(type="list", elements="str", choices=["arp", "icmp"], default=["arp", "icmp"]),
    exclude=dict(type="list", elements="str", default=[]),
    timeout=dict(type="float", default=1),
    max_addresses=dict(type="int", default=256),
    concurrency=dict(type="int", default=16),
)

TOOLS = {
    "arp": ("arping", "iputils-arping"),
    "icmp": ("ping", "iputils-ping"),
}
MAX_TIMEOUT = 30
MAX_ADDRESSES = 65536
MAX_CONCURRENCY = 64
# Enough failed addresses to show a pattern without flooding the message.
ERRORS_SHOWN = 5


class Prober(object):
    """Runs the probes of one address; safe to share between threads (it only reads)."""

    def __init__(self, module, tools, interface, methods, timeout):
        self.module = module
        self.tools = tools
        self.interface = interface
        self.methods = methods
        self.timeout = timeout

    def run(self, argv):
        try:
            # handle_exceptions=False: fail_json from a worker thread would print a result
            # and exit that thread only; the error is reported from the main thread instead.
            return self.module.run_command(argv, handle_exceptions=False)
        except (OSError, IOError) as error:
            return 127, "", to_text(error)

    def arp(self, address):
        rc, out, err = self.run(probe.arping_command(self.tools["arping"], self.interface, address, self.timeout))
        mac = probe.arping_reply(out, address)
        if mac:
            return True, mac, None
        if rc == 0:
            return False, None, None
        # arping exits 1 both for "DAD saw a reply" and for a bad argument, so only a parsed
        # reply counts as an answer; anything else unexplained is an error, not a free address.
        return False, None, "arping %s exited %d: %s" % (address, rc, probe.first_line(err, out))

    def icmp(self, address):
        rc, out, err = self.run(probe.ping_command(self.tools["ping"], self.interface, address, self.timeout))
        if rc == 1:
            return False, None, None
        if rc != 0:
            return False, None, "ping %s exited %d: %s" % (address, rc, probe.first_line(err, out))
        rc, out, err = self.run(probe.neigh_command(self.tools["ip"], self.interface, address))
        return True, probe.neighbour_mac(out) if rc == 0 else None, None

    def __call__(self, address):
        seen, mac, errors = [], None, []
        for method in self.methods:
            answered, method_mac, error = getattr(self, method)(address)
            if error:
                errors.append(error)
            if answered:
                seen.append(method)
                mac = mac or method_mac
        entry = None
        if seen:
            entry = {"address": address, "method": seen[0], "methods": seen, "mac": mac}
        return entry, errors


def option_problems(params):
    problems = []
    timeout = params["timeout"]
    if not 0 < timeout <= MAX_TIMEOUT:
        problems.append(finding("invalid_option", "timeout", "%s is not in (0, %d] seconds" % (timeout, MAX_TIMEOUT)))
    if not 1 <= params["max_addresses"] <= MAX_ADDRESSES:
        problems.append(finding("invalid_option", "max_addresses",
                                "%d is not between 1 and %d" % (params["max_addresses"], MAX_ADDRESSES)))
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        problems.append(finding("invalid_option", "concurrency",
                                "%d is not between 1 and %d" % (params["concurrency"], MAX_CONCURRENCY)))
    if not params["methods"]:
        problems.append(finding("invalid_option", "methods", "at least one of arp, icmp is needed"))
    reason = probe.interface_name_problem(params["interface"])
    if reason:
        problems.append(finding("interface_missing", "interface", reason))
    return problems


def find_tools(module, methods):
    tools, problems = {}, []
    needed = [("ip", "iproute2", "interface")] + [TOOLS[m] + ("methods",) for m in methods]
    for name, package, field in needed:
        path = module.get_bin_path(name)
        if path:
            tools[name] = path
        else:
            problems.append(finding("tool_missing", field,
                                    "%s is not installed on this node; install the %s package" % (name, package)))
    if "arping" in tools:
        # Thomas Habets' arping has a different -D and would misreport every address.
        rc, out, err = module.run_command([tools["arping"], "-V"])
        if "iputils" not in (out + err):
            problems.append(finding("tool_missing", "methods",
                                    "%s is not the iputils arping (it says %r); install the iputils-arping package"
                                    % (tools["arping"], probe.first_line(out, err))))
    return tools, problems


def check_interface(module, ip, interface):
    rc, out, err = module.run_command([ip, "-o", "link", "show", "dev", interface])
    if rc != 0:
        return [finding("interface_missing", "interface",
                        "%s does not exist on this node (%s)" % (interface, probe.first_line(err, out)))]
    if not probe.link_is_up(out):
        return [finding("interface_down", "interface", "%s is down; probes could not leave through it" % interface)]
    return []


def main():
    module = ansible_module(ARGUMENT_SPEC, supports_check_mode=True)
    # LC_ALL=C keeps the tools' output in the English the parsers expect.
    module.run_command_environ_update = dict(LANG="C", LC_ALL="C", LC_MESSAGES="C")
    params = module.params
    methods = []
    for method in params["methods"] or []:
        if method not in methods:
            methods.append(method)
    result = dict(changed=False, in_use=[], probed=0, methods=methods, interface=params["interface"])

    problems = option_problems(params)
    targets, bad = probe.parse_intervals(params["addresses"], "addresses")
    problems.extend(bad)
    excluded, bad = probe.parse_intervals(params["exclude"], "exclude")
    problems.extend(bad)
    if problems:
        report(module, problems, **result)

    work = probe.subtract(targets, excluded)
    size = probe.count(work)
    if size > params["max_addresses"]:
        report(module, [finding("too_many_addresses", "addresses",
                                "%d addresses to probe, more than max_addresses (%d); narrow the ranges, "
                                "exclude our own addresses, or raise max_addresses" % (size, params["max_addresses"]))],
               **result)

    tools, problems = find_tools(module, methods)
    if not problems:
        problems = check_interface(module, tools["ip"], params["interface"])
    if problems:
        report(module, problems, **result)

    prober = Prober(module, tools, params["interface"], methods, params["timeout"])
    if size:
        with ThreadPoolExecutor(max_workers=min(params["concurrency"], size)) as pool:
            outcomes = list(pool.map(prober, probe.addresses(work)))
    else:
        outcomes = []

    errors = [error for entry, address_errors in outcomes for error in address_errors]
    result["probed"] = size
    result["in_use"] = [entry for entry, address_errors in outcomes if entry]
    if errors:
        shown = "; ".join(errors[:ERRORS_SHOWN])
        more = " (and %d more)" % (len(errors) - ERRORS_SHOWN) if len(errors) > ERRORS_SHOWN else ""
        report(module, [finding("probe_failed", "interface",
                                "%d probe(s) could not run, so those addresses are not known to be free: %s%s"
                                % (len(errors), shown, more))], **result)
    report(module, [], **result)


if __name__ == "__main__":
    main()
