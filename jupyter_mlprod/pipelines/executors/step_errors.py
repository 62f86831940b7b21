"""What a failed step records about its error, in words a person can act on: where it failed
(the cell's execution count, as the output notebook shows `In [n]`, and its first line) and,
for a module the kernel lacks, which package to install."""
from __future__ import annotations

import re

# Import names whose distribution on PyPI is named otherwise (the common ones).
_DISTRIBUTIONS = {
    "sklearn": "scikit-learn", "yaml": "pyyaml", "cv2": "opencv-python", "PIL": "pillow",
    "skimage": "scikit-image", "bs4": "beautifulsoup4", "dateutil": "python-dateutil",
    "dotenv": "python-dotenv", "jwt": "pyjwt", "Crypto": "pycryptodome", "attr": "attrs",
    "google.protobuf": "protobuf", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
    "serial": "pyserial", "usb": "pyusb", "magic": "python-magic", "docx": "python-docx",
    "pptx": "python-pptx", "fitz": "pymupdf", "Levenshtein": "python-Levenshtein",
    "tensorflow_hub": "tensorflow-hub", "lightgbm": "lightgbm", "xgboost": "xgboost",
}
_NO_MODULE = re.compile(r"No module named '([^']+)'")
_SOURCE_LINE_MAX = 200


def install_hint(ename: str | None, evalue: str | None, kernel_name: str) -> str | None:
    """`pip install scikit-learn ...` for `ModuleNotFoundError: No module named 'sklearn.x'`."""
    if ename != "ModuleNotFoundError" or not evalue:
        return None
    match = _NO_MODULE.search(evalue)
    if not match:
        return None
    module = match.group(1)
    top = module.split(".")[0]
    dist = _DISTRIBUTIONS.get(module) or _DISTRIBUTIONS.get(top) or top.replace("_", "-")
    return (f"install it into the environment of kernel {kernel_name!r}: pip install {dist}")


def with_install_hint(error: dict, kernel_name: str) -> dict:
    """The error with the install hint appended to its message, so every view shows it."""
    hint = install_hint(error.get("ename"), error.get("evalue"), kernel_name)
    if hint and hint not in (error.get("evalue") or ""):
        error = {**error, "evalue": f"{error['evalue']} ({hint})"}
    return error


def first_source_line(source: str | None) -> str | None:
    """The cell's first non-blank line, shortened: enough to recognise the cell."""
    for line in (source or "").splitlines():
        if line.strip():
            line = line.rstrip()
            return line if len(line) <= _SOURCE_LINE_MAX else line[:_SOURCE_LINE_MAX - 1] + "…"
    return None


def where(error: dict) -> str:
    """`cell In [3]: ` (as the output notebook numbers it) or `cell index 2: ` or nothing."""
    if error.get("execution_count") is not None:
        return f"cell In [{error['execution_count']}]: "
    if error.get("cell_index") is not None:
        return f"cell index {error['cell_index']}: "
    return ""
