"""The engine: run a scoring notebook's setup once, in this process, and turn its scoring cell
into a plain function called per request.

The scoring cell's source becomes the body of `def _(request): ...; return response`, defined
over the setup namespace as its globals. Every name the cell assigns is a local of that call:
concurrent requests never see each other's `request`, comprehensions and lambdas in the cell
close over the right values, and reading the model from setup is a global lookup. No kernel,
no round trip, no history file.
"""
from __future__ import annotations

import ast
import builtins
import contextvars
import io
import json
import linecache
import os
import sys
import threading
import traceback
import types
from pathlib import Path

from ..errors import InvalidInput
from .deadline import Deadline
from . import kg_compat
from .notebook_cells import MISSING, Cell, ScoringSpec
from .schema import Validator, columns_of, record_schema

_CWD_LOCK = threading.RLock()
_NOOP_MAGICS = {"matplotlib", "config", "load_ext", "reload_ext", "autoreload", "aimport",
                "precision", "xmode", "pprint"}
_MISSING_RESPONSE = object()
_NO_PARAMS = types.MappingProxyType({})  # what `params` is when a request sends none


class MissingResponse(Exception):
    """The scoring cell ran to the end without setting `response`."""


class BadBatch(Exception):
    """A batching cell did not answer a list of records with a list of the same length."""


def json_default(value):
    """numpy scalars and arrays, pandas objects, sets: what scoring cells commonly return."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=json_default,
                            allow_nan=False)


def to_json(value) -> bytes:
    return _ENCODER.encode(value).encode("utf-8")


def options_key(options: dict) -> str:
    """The options a loaded version depends on."""
    return json.dumps([options["timeout_ms"], options["batching"], options.get("input_schema"),
                       options.get("kg_timeout_ms")], sort_keys=True)


class LoadedVersion:
    """One version of an endpoint, set up and compiled, ready to score."""

    def __init__(self, endpoint: str, version: str, spec: ScoringSpec, workdir: Path,
                 options: dict, deadline: Deadline):
        self.endpoint = endpoint
        self.version = version
        self.spec = spec
        self.digest = spec.digest
        self.workdir = workdir
        self.options = options
        self.timeout = options["timeout_ms"] / 1000.0
        kg_timeout = options.get("kg_timeout_ms")
        self.kg_timeout = kg_timeout / 1000.0 if kg_timeout else None  # KG has none by default
        self.takes_params = False  # the scoring cell reads `params` (MLflow's inference params)
        batching = options["batching"]
        self.batching = bool(batching["enabled"]) and spec.mode == "mlprod"
        self.max_batch = int(batching["max_batch"])
        self.max_wait = float(batching["max_wait_ms"]) / 1000.0
        self.deadline = deadline
        self.namespace: dict = {}
        self.score_fn = None
        self.routes: list[tuple] = []
        self.sample = MISSING
        self.schema: dict = {}
        self.validator = Validator(None)
        self.columns: list[str] | None = None

    @property
    def label(self) -> str:
        return f"endpoint {self.endpoint!r} version {self.version}"

    # -- loading --------------------------------------------------------------------------
    def load(self) -> "LoadedVersion":
        ns = self.namespace
        kernel_gateway = self.spec.mode == "kernel_gateway"
        if kernel_gateway:
            kg_compat.prepare_environment()
        ns.update({"__name__": "__main__", "__builtins__": builtins,
                   "get_ipython": kg_compat.get_ipython if kernel_gateway else _ServingShell.get,
                   "display": _display, "__mlprod_missing__": _MISSING_RESPONSE,
                   "__mlprod_no_params__": _NO_PARAMS})
        with _CWD_LOCK:
            previous = os.getcwd()
            os.chdir(self.workdir)
            try:
                for cell in self.spec.setup:
                    self._run_setup_cell(cell)
                self.sample = self._evaluate_sample()
            finally:
                os.chdir(previous)
        if self.spec.mode == "mlprod":
            self.takes_params = reads_params(self.spec.score.source)
            args = ("request", "params=__mlprod_no_params__") if self.takes_params else ("request",)
            self.score_fn = self._compile_function(self.spec.score, args, "response")
        else:
            _install_stdout_router()
            self.routes = kg_compat.compile_routes(self)
        self._finish()
        return self

    def rebind(self, options: dict) -> "LoadedVersion":
        """The same set-up version under other options (timeout, batching, schema): no setup
        rerun, only the schema, validator and warm-up."""
        if options_key(options) == options_key(self.options):
            return self
        clone = LoadedVersion(self.endpoint, self.version, self.spec, self.workdir, options,
                              self.deadline)
        clone.namespace, clone.score_fn, clone.routes = self.namespace, self.score_fn, self.routes
        clone.takes_params = self.takes_params
        clone.sample = self.sample
        clone._finish()
        return clone

    def _finish(self) -> None:
        declared = self.options.get("input_schema")
        if declared:
            self.schema = declared
        elif self.sample is not MISSING and self.spec.mode == "mlprod":
            self.schema = record_schema(self.sample, self.batching)
        self.validator = Validator(self.schema)
        self.columns = columns_of(self.schema)
        self._warm()

    def _run_setup_cell(self, cell: Cell) -> None:
        filename = self._filename(cell)
        try:
            code = compile(_transform(cell.source), filename, "exec")
            exec(code, self.namespace)  # noqa: S102 - running the notebook is the point
        except Exception as exc:  # noqa: BLE001
            raise self._setup_error(exc, cell, filename) from None

    def _evaluate_sample(self):
        sample = self.spec.static_sample()
        if sample is MISSING and self.spec.sample:
            scratch = dict(self.namespace)  # the sample must not leak into the setup namespace
            for cell in self.spec.sample:
                filename = self._filename(cell)
                try:
                    exec(compile(_transform(cell.source), filename, "exec"), scratch)  # noqa: S102
                except Exception as exc:  # noqa: BLE001
                    raise self._setup_error(exc, cell, filename, "the sample cell") from None
            sample = scratch.get("request", MISSING)
        if sample is MISSING:
            return MISSING
        try:
            return json.loads(to_json(sample))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{self.label}: the sample `request` is not JSON ({exc})",
                               field="notebook", code="setup_failed") from None

    def _compile_function(self, cell: Cell, args: tuple[str, ...], returns: str | None):
        filename = self._filename(cell)
        source = _transform(cell.source)
        try:
            body = ast.parse(source, filename).body or [ast.Pass()]
            template = ast.parse(f"def __mlprod_cell__({', '.join(args)}):\n    pass\n")
            if returns:
                body = body + ast.parse(f"try:\n    return {returns}\nexcept NameError:\n"
                                        f"    return __mlprod_missing__\n").body
            template.body[0].body = body
            code = compile(ast.fix_missing_locations(template), filename, "exec")
        except SyntaxError as exc:
            hint = " (`from x import *` and top-level `await` belong in a setup cell)" \
                if "import *" in str(exc) or "await" in str(exc) else ""
            raise InvalidInput(f"{self.label}: cell {cell.index} cannot be compiled: {exc.msg} "
                               f"(line {exc.lineno}){hint}", field="notebook",
                               code="setup_failed") from None
        scratch: dict = {}
        exec(code, self.namespace, scratch)  # noqa: S102 - defines the function only
        return scratch["__mlprod_cell__"]

    def _warm(self) -> None:
        """Run the sample through the scoring function before any traffic can reach it."""
        if self.spec.mode != "mlprod" or self.sample is MISSING:
            return
        try:
            records = self.sample if (self.batching and isinstance(self.sample, list)) else [self.sample]
            for _ in range(2):
                if self.batching:
                    to_json(self.predict_batch(records[:1]))
                else:
                    to_json(self.predict(self.sample))
        except BaseException as exc:  # noqa: BLE001 - a ScoringTimeout too
            detail = _describe(exc, self.namespace)
            if self.batching and not isinstance(exc, BadBatch):
                detail += (" (batching is on: the scoring cell gets a list of records and must set "
                           "`response` to a list of the same length)")
            raise InvalidInput(f"{self.label}: warming up with the sample request failed: {detail}",
                               field="notebook", code="setup_failed",
                               details={"endpoint": self.endpoint, "version": self.version,
                                        "cell": self.spec.score.index,
                                        "exception": type(exc).__name__}) from None

    def _filename(self, cell: Cell) -> str:
        name = f"<{self.endpoint}@{self.version} cell {cell.index}>"
        linecache.cache[name] = (len(cell.source), None, cell.source.splitlines(True), name)
        return name

    def _setup_error(self, exc: BaseException, cell: Cell, filename: str,
                     what: str = "setup") -> InvalidInput:
        line = None
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == filename:
                line = lineno
        if isinstance(exc, SyntaxError) and exc.filename == filename:
            line = exc.lineno
        where = f"cell {cell.index}" + (f", line {line}" if line else "")
        return InvalidInput(
            f"{self.label}: {what} failed in {where} of {self.spec.notebook}: "
            f"{type(exc).__name__}: {exc}", field="notebook", code="setup_failed",
            details={"endpoint": self.endpoint, "version": self.version, "cell": cell.index,
                     "line": line, "exception": type(exc).__name__, "message": str(exc)})

    # -- scoring --------------------------------------------------------------------------
    def predict(self, request):
        result = self.deadline.call(self.score_fn, request, self.timeout)
        if result is _MISSING_RESPONSE:
            raise MissingResponse("the scoring cell finished without setting `response`")
        return result

    def predict_with_params(self, request, params: dict):
        result = self.deadline.call(lambda r: self.score_fn(r, params), request, self.timeout)
        if result is _MISSING_RESPONSE:
            raise MissingResponse("the scoring cell finished without setting `response`")
        return result

    def predict_batch(self, records: list) -> list:
        result = self.predict(records)
        if not isinstance(result, (list, tuple)) or len(result) != len(records):
            got = f"a list of {len(result)}" if isinstance(result, (list, tuple)) \
                else type(result).__name__
            raise BadBatch(f"batching is on, so the scoring cell gets a list of {len(records)} "
                           f"records and must set `response` to a list of {len(records)}; "
                           f"it set {got}")
        return list(result)


def reads_params(source: str) -> bool:
    """The scoring cell declares MLflow inference params by reading the name `params`."""
    try:
        tree = ast.parse(_transform(source))
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Name) and node.id == "params" and isinstance(node.ctx, ast.Load)
               for node in ast.walk(tree))


def _describe(exc: BaseException, namespace: dict | None = None) -> str:
    from .deadline import ScoringTimeout

    if isinstance(exc, ScoringTimeout):
        return "it ran past the scoring timeout"
    return f"{type(exc).__name__}: {exc}"


def _transform(source: str) -> str:
    """IPython syntax (magics, `!shell`) to Python, only when there is any."""
    if not any(line.lstrip().startswith(("%", "!")) for line in source.split("\n")):
        return source
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _display(*objs, **kwargs) -> None:
    """`display(...)` in a setup cell shows nothing when serving."""


class _ServingShell:
    """What `get_ipython()` returns while serving: display-only magics are no-ops; anything
    else is refused with a message saying how to fix the notebook."""

    _instance = None

    @classmethod
    def get(cls):
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def run_line_magic(self, name, line, _stack_depth=1):
        if name in _NOOP_MAGICS:
            return None
        raise RuntimeError(f"%{name} cannot run in a served notebook: tag its cell "
                           "mlprod-skip, or write it as plain Python")

    def run_cell_magic(self, name, line, cell):
        raise RuntimeError(f"%%{name} cannot run in a served notebook: tag its cell mlprod-skip")

    def system(self, cmd):
        raise RuntimeError(f"shell commands (!{cmd}) cannot run in a served notebook: tag the "
                           "cell mlprod-skip")

    getoutput = system


# -- Kernel Gateway compatibility: stdout is the response --------------------------------------
_CAPTURE: contextvars.ContextVar = contextvars.ContextVar("mlprod_stdout_capture", default=None)
_ROUTER_LOCK = threading.Lock()


class _StdoutRouter(io.TextIOBase):
    """Replaces sys.stdout once: writes go to the current request's buffer, if any."""

    def __init__(self, target):
        self._target = target

    def write(self, text):
        buffer = _CAPTURE.get()
        return (buffer if buffer is not None else self._target).write(text)

    def flush(self):
        if _CAPTURE.get() is None:
            self._target.flush()

    def __getattr__(self, name):
        return getattr(self._target, name)


def _install_stdout_router() -> None:
    with _ROUTER_LOCK:
        if not isinstance(sys.stdout, _StdoutRouter):
            sys.stdout = _StdoutRouter(sys.stdout)


def _capture(deadline: Deadline, fn, request_text: str, timeout: float) -> str:
    buffer = io.StringIO()
    token = _CAPTURE.set(buffer)
    try:
        deadline.call(fn, request_text, timeout)
    finally:
        _CAPTURE.reset(token)
    return buffer.getvalue()
