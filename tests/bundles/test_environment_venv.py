"""A dedicated virtual environment created from a bundle's lock (pip from the package index;
uv when it is installed), with a kernelspec that starts it."""
from __future__ import annotations

import json
import subprocess

from jupyter_mlprod.bundles.environment import create_venv, current_lock, install_kernel


def test_venv_from_the_lock_pins_the_locked_versions(tmp_path):
    lock = current_lock()
    name = "packaging"
    assert name in lock["packages"]
    result = create_venv(lock, tmp_path / "venv", installer="pip", only=[name])
    assert result["packages"] == 1
    version = subprocess.run([result["python"], "-c", f"from importlib.metadata import version; "
                              f"print(version({name!r}))"], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert version == lock["packages"][name]
    spec = install_kernel(tmp_path / "venv", "mlprod-test", tmp_path / "prefix")
    argv = json.loads((spec / "kernel.json").read_text())["argv"]
    assert argv[0] == result["python"] and argv[1:3] == ["-m", "ipykernel_launcher"]
