"""A site's DNS server for the ``cluster`` suite: a tiny UDP responder in a network namespace the
test makes, at an address of the test's choosing, reached from the host over a veth and a /32
route (components.PodNetwork, the bench's pod network helper). The site's
``compute_network_dns_servers`` point at it, so CoreDNS's upstream and stub-domain forwarding go
there and nowhere else.

It answers A queries for the names it was given (one address each, TTL 5), NXDOMAIN for every
other name, and writes each question it received, one per line, to its log: a test reads that to
show the query came through CoreDNS's ``forward`` and not from anywhere else.

    with SiteDnsServer("10.20.0.53", {"plc.site.test": "10.20.1.10"}, folder) as server:
        ...  # server.questions()
"""

import json
import os
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import components  # noqa: E402 pylint: disable=wrong-import-position

TTL = 5
NXDOMAIN = 3


def answer(packet, records):
    """The reply to one query packet: an A record for a known name, NXDOMAIN otherwise; None for
    what is not a one-question query."""
    if len(packet) < 12:
        return None, None
    ident, flags, qdcount = struct.unpack(">HHH", packet[:6])
    if flags & 0x8000 or qdcount != 1:
        return None, None
    labels, offset = [], 12
    while offset < len(packet) and packet[offset]:
        length = packet[offset]
        labels.append(packet[offset + 1:offset + 1 + length].decode("ascii", "replace"))
        offset += length + 1
    offset += 1
    if offset + 4 > len(packet):
        return None, None
    qtype, _qclass = struct.unpack(">HH", packet[offset:offset + 4])
    question = packet[12:offset + 4]
    name = ".".join(labels).lower()
    address = records.get(name)
    # QR, the query's opcode and RD, AA; RCODE NXDOMAIN for an unknown name.
    reply_flags = 0x8000 | (flags & 0x7900) | 0x0400 | (0 if address else NXDOMAIN)
    body = b""
    count = 0
    if address and qtype == 1:
        body = struct.pack(">HHHIH", 0xC00C, 1, 1, TTL, 4) + socket.inet_aton(address)
        count = 1
    return name, struct.pack(">HHHHHH", ident, reply_flags, 1, count, 0, 0) + question + body


def serve(records, log_path):
    """Inside the namespace: answer on 0.0.0.0:53 until killed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", 53))
    with open(log_path, "a", encoding="utf-8") as log:
        log.write("listening\n")
        log.flush()
        while True:
            packet, peer = sock.recvfrom(4096)
            name, reply = answer(packet, records)
            if reply is None:
                continue
            log.write("%s from %s\n" % (name, peer[0]))
            log.flush()
            sock.sendto(reply, peer)


class SiteDnsServer:
    """The responder in a network namespace of its own at ``address`` (stopped on exit, its
    namespace, veth and route with it)."""

    def __init__(self, address, records, folder):
        self.address = address
        self.records = {name.lower().rstrip("."): ip for name, ip in records.items()}
        self.folder = folder
        self.log_path = os.path.join(folder, "site-dns.log")
        self.proc = None
        self.network = None

    def __enter__(self):
        if not components.can_make_pod_networks():
            raise OSError("a network namespace needs root with unshare, nsenter and ip")
        os.makedirs(self.folder, exist_ok=True)
        # The responder waits on stdin in its own namespace until the veth and route are there.
        self.proc = subprocess.Popen(
            ["unshare", "--net", "--", "/bin/sh", "-c", 'read ready && exec "$@"', "sh",
             sys.executable, os.path.abspath(__file__), json.dumps(self.records), self.log_path],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.network = components.PodNetwork(self.proc.pid, self.address, None, self.folder + "/site-dns")
            self.network.setup()
            self.proc.stdin.write(b"go\n")
            self.proc.stdin.close()
            deadline = time.monotonic() + 10
            while "listening" not in self._log():
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise OSError("the site DNS server at %s did not start" % self.address)
                time.sleep(0.05)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.network is not None:
            self.network.close()
            # The veth goes with the namespace; a route left by a half-made network goes here.
            subprocess.run(["ip", "link", "del", self.network.host_link], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)

    def _log(self):
        try:
            with open(self.log_path, encoding="utf-8") as handle:
                return handle.read()
        except OSError:
            return ""

    def questions(self):
        """[(name, source address)] of every query it answered."""
        return [tuple(line.split(" from ")) for line in self._log().splitlines() if " from " in line]


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]), sys.argv[2])
