"""Network guard for the test suite, loaded by every Python process the tests start (this
folder is put on PYTHONPATH) and by the test process itself (tests/conftest.py).

Connections to anything but the loopback interface fail, so a test that needs the network
fails instead of passing only on a connected machine. With ASSISTANT_TEST_NET_LOG set, every
attempt, loopback and local sockets included, is also appended to that file: a test can then
prove that a command tried no connection at all.
"""

from __future__ import annotations

import ipaddress
import os
import socket

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _log(what: str) -> None:
    path = os.environ.get("ASSISTANT_TEST_NET_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(what + "\n")


def _loopback(address: object) -> bool:
    if isinstance(address, (str, bytes)):
        return True  # a Unix socket path
    host = str(address[0]) if isinstance(address, tuple) and address else ""  # type: ignore[index]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address: object) -> None:
    _log(f"connect {address!r}")
    if not _loopback(address):
        raise OSError(101, f"network access is disabled in the tests (connect to {address!r})")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check(address)
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check(address)
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
    _log(f"getaddrinfo {host!r}")
    if host not in (None, "localhost", "127.0.0.1", "::1", b"localhost", b"127.0.0.1"):
        raise socket.gaierror(socket.EAI_NONAME, f"name lookups are disabled in the tests ({host!r})")
    return _getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]
