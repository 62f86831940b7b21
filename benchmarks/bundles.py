"""Bundles benchmark on ~1 GB of generated data (`--quick`: ~100 MB).

Measures, in one run on this machine:
  * first bundle (hash + copy into the content-addressed blob store, fsynced) vs `tar -cf` of
    the same files (the anchor), alternating A B A B, medians;
  * second bundle with unchanged data: new bytes stored (goal ~0) and time (goal >= 10x faster);
  * deploy of a bundle whose data is unchanged to a second node on loopback (real HTTP, node
    process with its own folder and store), after a first full deploy.
Prints a table, the ratios and a final JSON line.

    .venv/bin/python benchmarks/bundles.py [--quick] [--size-mb N] [--repeat N]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jupyter_mlprod.project import Project  # noqa: E402

FILES = 8


def generate(folder: Path, total_mb: int) -> None:
    """Random bytes in a handful of files, written once and reused by later runs."""
    stamp = folder / ".complete"
    if stamp.exists() and stamp.read_text() == str(total_mb):
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    per_file = total_mb * (1 << 20) // FILES
    for i in range(FILES):
        with open(folder / f"part-{i:02d}.bin", "wb") as out:
            left = per_file
            while left:
                chunk = min(left, 8 << 20)
                out.write(os.urandom(chunk))
                left -= chunk
    stamp.write_text(str(total_mb))


def make_project(root: Path, data: Path) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import write_step

    root.mkdir(parents=True, exist_ok=True)
    link = root / "data"
    if not link.exists():
        shutil.copytree(data, link, copy_function=_clone)
    (root / "mlprod.toml").write_text('[project]\nname = "bench"\n\n[bundles]\n'
                                      'include = ["data/*.bin"]\n')
    write_step(root, "score", "print('scoring')", inputs=["data/part-00.bin"])


def _clone(src, dst):
    """Copy without a second page-cache copy where the filesystem can share extents."""
    subprocess.run(["cp", "--reflink=auto", src, dst], check=True)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def drop_state(root: Path) -> None:
    shutil.rmtree(root / ".mlprod", ignore_errors=True)


def start_node(folder: Path, token: str) -> tuple[subprocess.Popen, str]:
    folder.mkdir(parents=True, exist_ok=True)
    ready = folder.parent / f".{folder.name}.ready"
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_mlprod.node", "--root", str(folder),
                             "--port", "0", "--ready-file", str(ready), "--no-services"],
                            env=dict(os.environ, PYTHONPATH=str(REPO), MLPROD_NODE_TOKEN=token),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the node did not start")
        time.sleep(0.05)
    return proc, json.loads(ready.read_text())["url"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~100 MB instead of ~1 GB")
    parser.add_argument("--size-mb", type=int)
    parser.add_argument("--repeat", type=int, default=2, help="A/B repetitions (medians)")
    parser.add_argument("--workdir", help="where to put data and projects (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the projects and the node")
    args = parser.parse_args()
    size_mb = args.size_mb or (100 if args.quick else 1024)
    base = Path(args.workdir or tempfile.gettempdir()) / "mlprod-bench-bundles"
    data = base / f"data-{size_mb}mb"
    print(f"generating {size_mb} MB of random data in {data} (once) ...", flush=True)
    generate(data, size_mb)
    design = base / "design"
    shutil.rmtree(design, ignore_errors=True)
    make_project(design, data)
    total = sum(p.stat().st_size for p in (design / "data").glob("*.bin"))

    tar_times, tar_sync_times, first_times = [], [], []
    store = ""
    for i in range(args.repeat):  # A B A B
        out = base / "anchor.tar"
        t, _ = timed(lambda: subprocess.run(["tar", "-cf", str(out), "-C", str(design), "data"],
                                            check=True))
        tar_times.append(t)
        out.unlink()

        def tar_durable():  # the same, flushed to disk as the blob store is
            subprocess.run(["tar", "-cf", str(out), "-C", str(design), "data"], check=True)
            fd = os.open(out, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)

        t, _ = timed(tar_durable)
        tar_sync_times.append(t)
        out.unlink()
        drop_state(design)  # no blobs, no hash cache: a true first bundle
        store = f"sqlite:///{base / f'design-store-{os.getpid()}-{i}.db'}"
        project = Project(design, store_url=store)
        t, first = timed(lambda: project.bundles.create("first"))
        first_times.append(t)
        project.close()

    project = Project(design, store_url=store)  # the last first bundle's blobs and hash cache
    second_times, news = [], []
    for i in range(max(3, args.repeat)):
        t, second = timed(lambda: project.bundles.create(f"unchanged data {i}"))
        second_times.append(t)
        news.append(second["new_bytes"])

    token = secrets.token_urlsafe(24)
    node_dir = base / "node"
    shutil.rmtree(node_dir, ignore_errors=True)
    proc, url = start_node(node_dir, token)
    try:
        t_full, full = timed(lambda: project.bundles.deploy(first["id"], url, token=token))
        # a new bundle: a notebook changed, the 1 GB of data did not
        from conftest import write_step

        deploy_times, uploaded, copy_times = [], [], []
        for i in range(max(2, args.repeat)):
            scratch = base / "copy-anchor"  # anchor: a plain local copy of the same data
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
            t, _ = timed(lambda: [shutil.copyfile(p, scratch / p.name)
                                  for p in sorted((design / "data").glob("*.bin"))])
            copy_times.append(t)
            shutil.rmtree(scratch)
            write_step(design, "score", f"print('scoring v{i + 2}')", inputs=["data/part-00.bin"])
            changed = project.bundles.create(f"code change {i}")
            t, result = timed(lambda: project.bundles.deploy(changed["id"], url, token=token))
            deploy_times.append(t)
            uploaded.append(result["uploaded_bytes"])
    finally:
        proc.terminate()
        proc.wait(20)
        project.close()
        for db in base.glob(f"design-store-{os.getpid()}-*.db*"):
            db.unlink()
        if not args.keep:  # the generated data stays for the next run; the rest goes
            shutil.rmtree(node_dir, ignore_errors=True)
            shutil.rmtree(design, ignore_errors=True)

    med = statistics.median
    figures = {
        "data_bytes": total, "files": FILES + 3,
        "tar_s": round(med(tar_times), 3), "first_bundle_s": round(med(first_times), 3),
        "first_vs_tar": round(med(first_times) / med(tar_times), 2),
        "tar_fsync_s": round(med(tar_sync_times), 3),
        "first_vs_tar_fsync": round(med(first_times) / med(tar_sync_times), 2),
        "first_bundle_new_bytes": first["new_bytes"],
        "second_bundle_s": round(med(second_times), 4),
        "second_bundle_new_bytes": max(news),
        "first_over_second": round(med(first_times) / med(second_times), 1),
        "deploy_full_s": round(t_full, 3), "deploy_full_uploaded_bytes": full["uploaded_bytes"],
        "deploy_unchanged_data_s": round(med(deploy_times), 3),
        "deploy_unchanged_data_uploaded_bytes": max(uploaded),
        "copy_anchor_s": round(med(copy_times), 3),
        "deploy_unchanged_vs_copy": round(med(deploy_times) / med(copy_times), 2),
        "repeat": args.repeat, "size_mb": size_mb,
    }
    mb = total / (1 << 20)
    print(f"\n{mb:,.0f} MB of data in {FILES} files, medians of {args.repeat} (A/B alternated)")
    print(f"  tar -cf (anchor)                       {figures['tar_s']:8.3f} s "
          f"({mb / figures['tar_s']:,.0f} MB/s)")
    print(f"  tar -cf + fsync (durable anchor)       {figures['tar_fsync_s']:8.3f} s "
          f"({mb / figures['tar_fsync_s']:,.0f} MB/s)")
    print(f"  first bundle (hash + store + fsync)    {figures['first_bundle_s']:8.3f} s "
          f"({mb / figures['first_bundle_s']:,.0f} MB/s)  = {figures['first_vs_tar']}x tar, "
          f"{figures['first_vs_tar_fsync']}x durable tar")
    print(f"  second bundle, unchanged data          {figures['second_bundle_s']:8.4f} s  "
          f"new bytes {figures['second_bundle_new_bytes']}  -> {figures['first_over_second']}x "
          "faster than the first (goal >= 10x)")
    print(f"  first deploy to a node (all data)      {figures['deploy_full_s']:8.3f} s  uploaded "
          f"{figures['deploy_full_uploaded_bytes']:,} bytes")
    print(f"  deploy, unchanged data (code change)   {figures['deploy_unchanged_data_s']:8.3f} s  "
          f"uploaded {figures['deploy_unchanged_data_uploaded_bytes']:,} bytes (tree written "
          "from verified local blobs)")
    print(f"  plain copy of the data (anchor)        {figures['copy_anchor_s']:8.3f} s  -> deploy "
          f"= {figures['deploy_unchanged_vs_copy']}x a local copy, 0 data bytes on the network")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
