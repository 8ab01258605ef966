#!/usr/bin/env python3
"""A network between ykmfa and the bench's IAM endpoint, as far away as a laptop is from us-east-1.

On the bench the IAM endpoint is on loopback and a round trip costs nothing, which hides where the
time of a real command goes. This front listens on one port per AWS service (IAM and STS are
different hosts on AWS, so a client that calls both opens two connections, as it does there) and
forwards every byte to the endpoint after a fixed one-way delay, in order, in both directions:

- a request reaches the endpoint ONE_WAY ms after the client sent it, and the answer reaches the
  client ONE_WAY ms after the endpoint sent it: a round trip costs 2 x ONE_WAY;
- a new connection costs one more round trip before its first byte goes out (the TCP handshake;
  TLS would cost more on AWS: the front is a lower bound);
- connections are kept alive, as AWS's endpoints keep them.

It counts connections and HTTP requests per service. A control port (no delay) answers
`GET /stats` with {"iam": {"connections": N, "requests": N}, "sts": {...}} and `POST /reset`.

    latency_front.py --backend 127.0.0.1:PORT --one-way-ms 40 --port-file F

writes "IAM_PORT STS_PORT CONTROL_PORT" to F (atomically) once listening. Stops on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import json
import os
import signal
import time

SERVICES = ("iam", "sts")


class Counts:
    def __init__(self):
        self.reset()

    def reset(self):
        self.by_service = {s: {"connections": 0, "requests": 0} for s in SERVICES}


class RequestCounter:
    """Counts HTTP/1.1 requests in a client's byte stream: header blocks, each followed by a body
    of Content-Length bytes (the AWS SDKs and CLI send query-protocol bodies with a length)."""

    def __init__(self):
        self.buffer = b""
        self.body_left = 0

    def feed(self, data):
        found = 0
        self.buffer += data
        while True:
            if self.body_left:
                taken = min(self.body_left, len(self.buffer))
                self.buffer = self.buffer[taken:]
                self.body_left -= taken
                if self.body_left:
                    return found
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return found
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            found += 1
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    self.body_left = int(value.strip() or b"0")


async def pipe(reader, writer, delay, not_before, counter=None, on_request=None):
    """Copies reader to writer, each chunk delivered `delay` seconds after it was read (and not
    before `not_before`, monotonic), keeping the order."""
    queue = asyncio.Queue()

    async def deliver():
        while True:
            item = await queue.get()
            if item is None:
                break
            due, data = item
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            try:
                await writer.drain()
            except ConnectionError:
                break
        try:
            writer.close()
        except Exception:
            pass

    delivering = asyncio.ensure_future(deliver())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if counter is not None:
                n = counter.feed(data)
                if n and on_request:
                    on_request(n)
            queue.put_nowait((max(time.monotonic() + delay, not_before + delay), data))
    except ConnectionError:
        pass
    queue.put_nowait(None)
    await delivering


def serve(service, backend, one_way, counts):
    host, port = backend

    async def handle(client_reader, client_writer):
        accepted = time.monotonic()
        counts.by_service[service]["connections"] += 1
        try:
            server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        handshake_done = accepted + 2 * one_way

        def on_request(n):
            counts.by_service[service]["requests"] += n

        await asyncio.gather(
            pipe(client_reader, server_writer, one_way, handshake_done, RequestCounter(), on_request),
            pipe(server_reader, client_writer, one_way, 0.0),
        )

    return handle


def control(counts):
    async def handle(reader, writer):
        try:
            request = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        line = request.split(b"\r\n", 1)[0].decode("latin-1")
        if line.startswith("POST /reset"):
            counts.reset()
        body = json.dumps(counts.by_service).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    return handle


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", required=True, help="HOST:PORT of the IAM endpoint")
    parser.add_argument("--one-way-ms", type=float, required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    host, _, port = args.backend.rpartition(":")
    backend = (host, int(port))
    one_way = args.one_way_ms / 1000.0
    counts = Counts()
    servers = [
        await asyncio.start_server(serve(s, backend, one_way, counts), "127.0.0.1", 0)
        for s in SERVICES
    ]
    servers.append(await asyncio.start_server(control(counts), "127.0.0.1", 0))
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(" ".join(map(str, ports)))
    os.replace(tmp, args.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in servers:
        s.close()


if __name__ == "__main__":
    asyncio.run(main())
