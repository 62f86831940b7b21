"""Pipeline, steps and runs routes."""
from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import MlprodHandler

RUN_REQUEST_FIELDS = ("steps", "from", "parameters", "force")


class ProjectHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self):
        self.reply(await self.call(lambda p: p.settings.describe()))


class PipelineHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self):
        self.reply(await self.call(lambda p: p.pipeline_view()))


class StepHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self):
        path = self.required_argument("path")
        self.reply(await self.call(lambda p: p.get_step(path)))

    @web.authenticated
    @authorized
    async def put(self):
        path = self.required_argument("path")
        body = self.json_body()
        self.reply(await self.call(lambda p: p.tag_step(path, body)))

    @web.authenticated
    @authorized
    async def delete(self):
        path = self.required_argument("path")
        await self.call(lambda p: p.untag_step(path))
        self.set_status(204)
        self.finish()


class RunsHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self):
        limit = self.int_argument("limit", 50)
        offset = self.int_argument("offset", 0)
        self.reply(await self.call(lambda p: p.list_runs(limit, offset)))

    @web.authenticated
    @authorized
    async def post(self):
        body = self.object_body(RUN_REQUEST_FIELDS)
        run = await self.call(lambda p: p.start_run(
            steps=body.get("steps"), from_step=body.get("from"),
            parameters=body.get("parameters"), force=body.get("force", False), trigger="panel",
            from_text=False))  # REST values are JSON-typed, not command-line text
        self.accepted(run)


class RunHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str):
        self.reply(await self.call(lambda p: p.get_run(run_id)))


class RunResumeHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id: str):
        self.object_body(())
        self.accepted(await self.call(lambda p: p.resume_run(run_id, trigger="panel")))


class RunCancelHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id: str):
        self.object_body(())
        self.reply(await self.call(lambda p: p.cancel_run(run_id)), 202)


class StepNotebookHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str, step: str):
        fmt = self.get_argument("format", "ipynb")
        content_type, text = await self.call(lambda p: p.output_notebook(run_id, step, fmt))
        self.finish(text, set_content_type=f"{content_type}; charset=UTF-8")


class StepLogHandler(MlprodHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str, step: str):
        text = await self.call(lambda p: p.step_log(run_id, step))
        self.finish(text, set_content_type="text/plain; charset=UTF-8")


_RUN = r"runs/(?P<run_id>[^/]+)"
_STEP = _RUN + r"/steps/(?P<step>[^/]+)"

# (route as in openapi.yaml, regex, handler): the server tests check this list against the
# contract's `paths`, so a route cannot exist on one side only.
ROUTES: list[tuple[str, str, type[MlprodHandler]]] = [
    ("/project", "project", ProjectHandler),
    ("/pipeline", "pipeline", PipelineHandler),
    ("/notebooks/step", "notebooks/step", StepHandler),
    ("/runs", "runs", RunsHandler),
    ("/runs/{id}", _RUN, RunHandler),
    ("/runs/{id}/resume", _RUN + "/resume", RunResumeHandler),
    ("/runs/{id}/cancel", _RUN + "/cancel", RunCancelHandler),
    ("/runs/{id}/steps/{step}/notebook", _STEP + "/notebook", StepNotebookHandler),
    ("/runs/{id}/steps/{step}/log", _STEP + "/log", StepLogHandler),
]
