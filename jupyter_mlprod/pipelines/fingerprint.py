"""A step's fingerprint: what must be unchanged for its last success to still hold.

It covers the notebook's code cells, its effective parameters, the kernel, and the content
(sha256) of every file its inputs name. Unlike Ploomber, external data that changes is noticed.
A step's outputs are hashed apart, after it succeeds: a skip also needs them unchanged since.
"""
from __future__ import annotations

import hashlib
import json

from ..hashing import FileHasher
from ..notebooks.discovery import NotebookInfo
from ..notebooks.steps import StepSpec

FINGERPRINT_VERSION = "1"


def step_fingerprint(spec: StepSpec, notebook: NotebookInfo, parameters: dict, kernel: str,
                     hasher: FileHasher) -> str:
    digest = hashlib.sha256()
    digest.update(FINGERPRINT_VERSION.encode())
    digest.update(notebook.code_digest_source.encode("utf-8"))
    digest.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    digest.update(kernel.encode())
    digest.update(json.dumps(sorted(spec.outputs)).encode())
    for rel, sha in sorted(hasher.digest_patterns(spec.inputs).items()):
        digest.update(f"{rel}\0{sha}\n".encode())
    return digest.hexdigest()


def outputs_present(spec: StepSpec, hasher: FileHasher) -> bool:
    return all(hasher.expand(pattern) for pattern in spec.outputs)


def outputs_digest(spec: StepSpec, hasher: FileHasher) -> str:
    """sha256 over the names and contents of every file the step's outputs name: recorded at
    success, compared before skipping, so outputs changed since are noticed."""
    digest = hashlib.sha256()
    for rel, sha in sorted(hasher.digest_patterns(spec.outputs).items()):
        digest.update(f"{rel}\0{sha}\n".encode())
    return digest.hexdigest()
