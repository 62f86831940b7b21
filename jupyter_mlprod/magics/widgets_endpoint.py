"""`%mlprod endpoint test NAME` in a notebook frontend: a request editor prefilled with the
endpoint's sample request, a Send button, and the response (status, latency, version, where it
was answered, body).

Send goes through `project.endpoints.test_request`, the panel's test console: real HTTP to a
server started from this kernel that serves the endpoint, else the scoring cell in this process.
"""
from __future__ import annotations

import json
from html import escape

import ipywidgets as widgets

from ..errors import MlprodError
from .commands_endpoints import parse_request, score_view
from .widgets import message_html


class EndpointTester(widgets.VBox):
    def __init__(self, project, name: str):
        self.project = project
        self.name = name
        sample = project.endpoints.sample(name)  # also refuses an unknown endpoint
        self.request = widgets.Textarea(value=json.dumps({} if sample is None else sample,
                                                         indent=2), placeholder="JSON request",
                                        layout=widgets.Layout(width="100%", height="140px"))
        self.path = widgets.Dropdown(options=["predict", "invocations"], value="predict",
                                     description="path", style={"description_width": "40px"},
                                     layout=widgets.Layout(width="180px"))
        self.send_button = widgets.Button(description="Send", icon="paper-plane",
                                          button_style="primary",
                                          tooltip="send the request to the endpoint")
        self.send_button.on_click(self.send)
        self.message = widgets.HTML()
        self.response = widgets.HTML()
        self.result: dict | None = None
        super().__init__([widgets.HTML(f"<b>test endpoint {escape(name)}</b>"), self.request,
                          widgets.HBox([self.send_button, self.path]), self.message,
                          self.response])
        self.add_class("mlprod-endpoint-test")
        self.send_button.add_class("mlprod-endpoint-send")
        self.response.add_class("mlprod-endpoint-response")

    def send(self, _button=None) -> dict | None:
        self.send_button.disabled = True
        try:
            self.result = self.project.endpoints.test_request(
                self.name, parse_request(self.request.value, "the text"), path=self.path.value)
        except MlprodError as exc:
            self.result = None
            self.message.value = message_html(exc.message, error=True)
            self.response.value = ""
            return None
        finally:
            self.send_button.disabled = False
        self.message.value = ""
        self.response.value = score_view(self.result).html
        return self.result
