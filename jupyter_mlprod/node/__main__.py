"""`python -m jupyter_mlprod.node --root FOLDER --port 8765 [--token ... | --token-file ...]`"""
from __future__ import annotations

import argparse
import logging
import sys

from ..errors import MlprodError
from . import run_node


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_mlprod.node",
                                     description="Run a headless mlprod production node.")
    parser.add_argument("--root", default=".", help="the node's folder (its .mlprod/ holds state)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--token", help="accepted token (else $MLPROD_NODE_TOKEN or a token file)")
    parser.add_argument("--token-file")
    parser.add_argument("--store-url")
    parser.add_argument("--name", help="the node's name (default: the folder's name)")
    parser.add_argument("--ready-file", help="write {url, port, pid} here once serving")
    parser.add_argument("--no-services", action="store_true",
                        help="do not start the active bundle's scheduler/endpoints")
    parser.add_argument("--sync-interval", type=float, default=3.0)
    parser.add_argument("--serve-port", type=int, default=None,
                        help="serve the active bundle's endpoints on this port (0: a free one)")
    parser.add_argument("--serve-host", default=None, help="address for the endpoints "
                        "(default: --host; beyond loopback every endpoint needs an API key)")
    parser.add_argument("--serve-workers", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run_node(args.root, args.port, args.token, host=args.host, token_file=args.token_file,
                 store_url=args.store_url, name=args.name, ready_file=args.ready_file,
                 start_services=not args.no_services, sync_interval=args.sync_interval,
                 serve_port=args.serve_port, serve_host=args.serve_host,
                 serve_workers=args.serve_workers)
    except MlprodError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
