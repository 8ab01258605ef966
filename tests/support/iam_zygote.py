"""Starts the strict IAM endpoint (bench/iam/strict_iam.py) for the benches of one test process,
each a process of its own, forked from this one after the slow imports (moto, werkzeug, botocore's
models): a fresh endpoint costs a fork instead of a second of CPU and three of wall time, and the
bench tests start a couple of hundred of them.

    iam_zygote.py SOCKET

listens on the Unix socket SOCKET. Each connection sends one line, a JSON list of strict_iam.py's
arguments plus {"log": PATH}; the answer is one line with the new endpoint's pid. The endpoint is
strict_iam.main(ARGS) in a forked child whose output goes to PATH, which dies with this process
(PR_SET_PDEATHSIG), as this one dies with the test process that started it (setpriv). The
endpoint behaves as `python strict_iam.py ARGS` does: the child imports nothing strict_iam has
not, and patches moto itself, as that run would (this process only imports).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench", "iam"))

import strict_iam  # noqa: E402

# The imports strict_iam.main and the first IAM and STS requests make, done once here.
import moto  # noqa: E402,F401
import moto.iam.models  # noqa: E402,F401
import moto.iam.responses  # noqa: E402,F401
import moto.sts.models  # noqa: E402,F401
import moto.sts.responses  # noqa: E402,F401
from moto.moto_server.werkzeug_app import (  # noqa: E402,F401
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402,F401

PR_SET_PDEATHSIG = 1


def serve_one(conn: socket.socket, listener: socket.socket) -> None:
    request = conn.makefile("r").readline()
    message = json.loads(request)
    args, log = message["args"], message["log"]
    pid = os.fork()
    if pid == 0:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            listener.close()
            conn.close()
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.close(devnull)
            code = strict_iam.main(args)
        except BaseException as e:  # noqa: BLE001 - the child never returns to the accept loop
            print(f"iam_zygote: the endpoint failed: {e!r}", file=sys.stderr, flush=True)
            code = 1
        os._exit(code or 0)
    conn.sendall(f"{pid}\n".encode())
    conn.close()


def main() -> int:
    path = sys.argv[1]
    # Children are reaped by the kernel: the test process kills them by pid.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".tmp")
    listener.listen(64)
    # Only a listening socket appears under the name the test process waits for.
    os.replace(path + ".tmp", path)
    while True:
        conn, _ = listener.accept()
        with conn:
            serve_one(conn, listener)


if __name__ == "__main__":
    sys.exit(main())
