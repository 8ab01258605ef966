#!/usr/bin/env python3
"""A network between ykmfa and the bench's IAM endpoint, as far away as a laptop is from us-east-1.

On the bench the IAM endpoint is on loopback and a round trip costs nothing, which hides where the
time of a real command goes. This front listens on one port per AWS service (IAM and STS are
different hosts on AWS, so a client that calls both opens two connections, as it does there) and
passes every HTTP request on to the endpoint and its answer back, each after a fixed one-way delay:

- a request reaches the endpoint ONE_WAY ms after the client sent it, and the answer reaches the
  client ONE_WAY ms after the endpoint gave it: a round trip costs 2 x ONE_WAY;
- a new connection costs one more round trip before its first request goes out (the TCP
  handshake; TLS would cost more on AWS: the front is a lower bound);
- the client's connections are kept alive, as AWS's endpoints keep them, whatever the endpoint
  does with its own (the bench's closes after each answer).

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


async def read_message(reader, request):
    """One HTTP/1.1 message (head and body) from a stream, or None at its end. A request's body
    has a Content-Length (the AWS SDKs and CLI send query-protocol bodies with one); an answer's
    body has a length, is chunked, or runs to the end of the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    if b"content-length" in fields:
        body = await reader.readexactly(int(fields[b"content-length"]))
    elif not request and fields.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    elif request:
        body = b""
    else:
        body = await reader.read()
    return head, body


def keep_alive(head, body):
    """The answer as a kept-alive connection carries it: a length, no `Connection: close`."""
    lines = head.split(b"\r\n")[:-2]
    dropped = (b"connection", b"content-length", b"transfer-encoding", b"keep-alive")
    kept = [lines[0]] + [l for l in lines[1:] if l.partition(b":")[0].strip().lower() not in dropped]
    kept += [b"Content-Length: " + str(len(body)).encode(), b"Connection: keep-alive"]
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


async def sleep_until(when):
    wait = when - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)


def serve(service, backend, one_way, counts):
    host, port = backend

    async def handle(client_reader, client_writer):
        accepted = time.monotonic()
        counts.by_service[service]["connections"] += 1
        first = True
        try:
            while True:
                message = await read_message(client_reader, request=True)
                if message is None:
                    break
                head, body = message
                counts.by_service[service]["requests"] += 1
                # The first request of a connection waits for the handshake: a round trip.
                sent = time.monotonic()
                if first:
                    sent = max(sent, accepted + 2 * one_way)
                    first = False
                await sleep_until(sent + one_way)
                # One backend connection per request: on loopback it costs nothing, and the
                # backend may close after each answer; the client's connection stays open.
                server_reader, server_writer = await asyncio.open_connection(host, port)
                server_writer.write(head + body)
                await server_writer.drain()
                answer = await read_message(server_reader, request=False)
                server_writer.close()
                if answer is None:
                    break
                await asyncio.sleep(one_way)
                client_writer.write(keep_alive(*answer))
                await client_writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            client_writer.close()

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
