"""Fail any attempt to reach the network (loopback and Unix sockets are allowed).

``install()`` adds a Python audit hook for ``socket.connect`` and ``socket.getaddrinfo``.
Running a script with ``python -c "import network_guard; network_guard.install(); ..."`` (with
this folder on ``sys.path``) applies it in a child process too.
"""

import sys

_LOCAL = {"localhost", "127.0.0.1", "::1", "", None}


class NetworkAccess(RuntimeError):
    pass


def _host_of(address):
    if isinstance(address, tuple) and address:
        return address[0]
    return None  # AF_UNIX paths and the like


def _hook(event, args):
    if event == "socket.connect":
        host = _host_of(args[1])
        if host is not None and host not in _LOCAL and not str(host).startswith("127."):
            raise NetworkAccess(f"network access attempted: connect to {args[1]!r}")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode()
        if host not in _LOCAL and not str(host).startswith("127."):
            raise NetworkAccess(f"network access attempted: name lookup of {host!r}")


_installed = False


def install():
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
