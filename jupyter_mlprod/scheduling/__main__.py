"""Headless scheduler: `python -m jupyter_mlprod.scheduling [--root DIR] [--store-url URL] ...`.
The `mlprod scheduler` command wraps `main()`; it needs no JupyterLab. SIGTERM / SIGINT stop it
gracefully (exit code 0)."""
from __future__ import annotations

import argparse
import logging
import sys


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m jupyter_mlprod.scheduling",
                                description="Run the mlprod scheduler in the foreground.")
    p.add_argument("--root", default=".", help="project folder (default: the current one)")
    p.add_argument("--store-url", help="SQLAlchemy URL of the store (default: from mlprod.toml)")
    p.add_argument("--executor", help="executor of the runs (local, dask)")
    p.add_argument("--name", help="this scheduler's name in the store (default: host:pid)")
    p.add_argument("--poll-interval", type=float, help="longest sleep between passes, seconds")
    p.add_argument("--max-concurrent-runs", type=int, help="scenario runs in flight, store-wide")
    p.add_argument("--dry-run", action="store_true",
                   help="record a run per fire without executing any step")
    p.add_argument("--stop-timeout", type=float,
                   help="on SIGTERM, seconds running runs may take before they are cancelled")
    p.add_argument("--log-level", default="INFO")
    return p


def main(argv: list[str] | None = None) -> int:
    from ..errors import MlprodError
    from ..project import Project
    from .scheduler import Scheduler

    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        project = Project(args.root, store_url=args.store_url, executor=args.executor)
        scheduler = Scheduler(project, name=args.name, poll_interval=args.poll_interval,
                              launcher="dry-run" if args.dry_run else None,
                              max_concurrent_runs=args.max_concurrent_runs,
                              stop_timeout=args.stop_timeout)
    except MlprodError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    try:
        return scheduler.run_forever()
    finally:
        project.close()


if __name__ == "__main__":
    sys.exit(main())
