"""The latency front: a round trip per request on a kept-alive connection, one more per new
connection, IAM and STS counted apart, and every byte delivered as the backend sent it."""
import http.client
import http.server
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ONE_WAY_MS = 50


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        answer = b"echo:" + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class EchoThenClose(Echo):
    protocol_version = "HTTP/1.0"


def start(handler=Echo):
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    ports = os.path.join(tempfile.mkdtemp(), "ports")
    front = subprocess.Popen([
        sys.executable, os.path.join(HERE, "latency_front.py"),
        "--backend", f"127.0.0.1:{backend.server_address[1]}",
        "--one-way-ms", str(ONE_WAY_MS), "--port-file", ports,
    ])
    deadline = time.monotonic() + 10
    while not os.path.exists(ports):
        assert time.monotonic() < deadline, "the front did not start"
        time.sleep(0.01)
    iam, sts, control = map(int, open(ports).read().split())
    return backend, front, iam, sts, control


def stats(control, method="GET", path="/stats"):
    c = http.client.HTTPConnection("127.0.0.1", control)
    c.request(method, path)
    import json
    return json.loads(c.getresponse().read())


def test_round_trips_connections_and_counts():
    backend, front, iam, sts, control = start()
    try:
        rtt = 2 * ONE_WAY_MS / 1000
        c = http.client.HTTPConnection("127.0.0.1", iam)
        started = time.monotonic()
        c.request("POST", "/", body=b"one")
        assert c.getresponse().read() == b"echo:one"
        first = time.monotonic() - started
        started = time.monotonic()
        c.request("POST", "/", body=b"two" * 10000)
        assert c.getresponse().read() == b"echo:" + b"two" * 10000
        second = time.monotonic() - started
        # A new connection: handshake + request; a kept-alive one: the request alone.
        assert 2 * rtt <= first < 2 * rtt + 0.1, first
        assert rtt <= second < rtt + 0.1, second
        s = http.client.HTTPConnection("127.0.0.1", sts)
        s.request("POST", "/", body=b"")
        assert s.getresponse().read() == b"echo:"
        counted = stats(control)
        assert counted == {"iam": {"connections": 1, "requests": 2},
                           "sts": {"connections": 1, "requests": 1}}, counted
        assert stats(control, "POST", "/reset")["iam"] == {"connections": 0, "requests": 0}
    finally:
        front.terminate()
        front.wait(5)
        backend.shutdown()


def test_the_client_connection_stays_open_when_the_endpoint_closes_its_own():
    backend, front, iam, _, control = start(EchoThenClose)
    try:
        c = http.client.HTTPConnection("127.0.0.1", iam)
        for body in (b"a", b"b", b"c"):
            c.request("POST", "/", body=body)
            answer = c.getresponse()
            assert answer.read() == b"echo:" + body
            assert answer.getheader("Connection") == "keep-alive"
        assert stats(control)["iam"] == {"connections": 1, "requests": 3}
    finally:
        front.terminate()
        front.wait(5)
        backend.shutdown()
