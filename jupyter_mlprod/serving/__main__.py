"""`python -m jupyter_mlprod.serving --project DIR [--endpoint NAME ...]`: one serving process.

`EndpointService.serve()` starts it in the background; `EndpointService.run()` is the same in
the foreground. Doors should call those, not this.
"""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_mlprod.serving")
    parser.add_argument("--project", required=True, help="project folder")
    parser.add_argument("--store-url", default="")
    parser.add_argument("--endpoint", action="append", dest="endpoints",
                        help="serve this endpoint (repeat; default: every endpoint)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=0, help="0: one per available core")
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--status-fd", type=int, default=None)
    parser.add_argument("--server-id", default="")
    parser.add_argument("--cpus", default="", help="pin the server to these CPUs: 0,1")
    parser.add_argument("--kg-root", action="store_true",
                        help="serve the one Kernel Gateway notebook's routes at the root")
    parser.add_argument("--parent-fd", type=int, default=None,
                        help="stop when this pipe closes (the process that started us died)")
    args = parser.parse_args(argv)
    if args.parent_fd is not None:
        _stop_with_parent(args.parent_fd)
    if args.cpus:
        os.sched_setaffinity(0, {int(c) for c in args.cpus.split(",")})
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s [%(process)d] %(message)s")
    from .runtime import ServerConfig, run_server
    from .workers import default_workers

    config = ServerConfig(root=args.project, store_url=args.store_url, endpoints=args.endpoints,
                          host=args.host, port=args.port,
                          workers=args.workers or default_workers(),
                          poll_interval=args.poll_interval,
                          internal_hash=os.environ.pop("MLPROD_SERVING_INTERNAL_HASH", None),
                          server_id=args.server_id or "s" + secrets.token_hex(6),
                          status_fd=args.status_fd, kg_root=args.kg_root)
    return run_server(config)


def _stop_with_parent(fd: int) -> None:
    import signal
    import threading
    import time

    def watch() -> None:
        while os.read(fd, 1):  # nothing is ever written: returns b"" once the parent is gone
            pass
        logging.getLogger("jupyter_mlprod.serving").warning(
            "the process that started this server is gone; stopping")
        os.kill(os.getpid(), signal.SIGTERM)  # graceful, as `stop()` would
        time.sleep(15)
        os.kill(os.getpid(), signal.SIGKILL)  # workers follow (their parent-death signal)

    threading.Thread(target=watch, name="mlprod-parent-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
