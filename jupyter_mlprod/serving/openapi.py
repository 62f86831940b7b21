"""The OpenAPI document generated for one endpoint (served at `GET /<endpoint>/openapi.json`)."""
from __future__ import annotations

from .notebook_cells import MISSING

_ERROR = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"},
    "field": {"type": ["string", "null"]}, "error_id": {"type": "string"},
    "exception": {"type": "string"}}}}}


def _errors(*codes: int) -> dict:
    words = {400: "Invalid request (the message names the field)", 401: "Missing or invalid API key",
             404: "No such route", 413: "Request body too large",
             500: "The scoring cell raised (error id, exception class and message)",
             504: "Scoring ran past the endpoint's timeout"}
    return {str(c): {"description": words[c], "content": {"application/json": {"schema": _ERROR}}}
            for c in codes}


def build_openapi(name: str, version, needs_key: bool, server_url: str | None = None) -> dict:
    """`version` is the LoadedVersion answering most of the traffic."""
    schema = version.schema or {}
    record = {"schema": schema}
    if version.sample is not MISSING:
        record["example"] = version.sample
    paths: dict = {}
    if version.spec.mode == "mlprod":
        body_schema = {"oneOf": [schema, {"type": "array", "items": schema}]} \
            if version.batching else schema
        paths[f"/{name}/predict"] = {"post": {
            "summary": f"Score one request with the notebook {version.spec.notebook}",
            "operationId": f"{name}_predict",
            "requestBody": {"required": True, "content": {"application/json": {
                **record, "schema": body_schema}}},
            "responses": {"200": {"description": "The scoring cell's `response`",
                                  "headers": {"X-Mlprod-Version": {"schema": {"type": "string"}}},
                                  "content": {"application/json": {"schema": {}}}},
                          **_errors(400, 401, 413, 500, 504)}}}
        rows = {"type": "array", "items": schema}
        paths[f"/{name}/invocations"] = {"post": {
            "summary": "MLflow scoring-server compatible scoring",
            "operationId": f"{name}_invocations",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"oneOf": [
                    {"type": "object", "required": ["dataframe_records"],
                     "properties": {"dataframe_records": rows}},
                    {"type": "object", "required": ["dataframe_split"], "properties": {
                        "dataframe_split": {"type": "object", "properties": {
                            "columns": {"type": "array", "items": {"type": "string"}},
                            "data": {"type": "array", "items": {"type": "array"}}}}}},
                    {"type": "object", "required": ["instances"]},
                    {"type": "object", "required": ["inputs"]}]}},
                "text/csv": {"schema": {"type": "string"}}}},
            "responses": {"200": {"description": "One answer per record", "content": {
                "application/json": {"schema": {"type": "object", "properties": {
                    "predictions": {"type": "array"}}}}}}, **_errors(400, 401, 413, 500, 504)}}}
    else:
        for route in version.spec.routes:
            method, route_path = route.method, route.path
            oas_path = "/" + name + "/".join(
                "{" + part[1:] + "}" if part.startswith(":") else part
                for part in ("/" + route_path.strip("/")).split("/"))
            paths.setdefault(oas_path.rstrip("/") or f"/{name}", {})[method.lower()] = {
                "summary": f"Kernel Gateway route {method} {route_path}",
                "responses": {"200": {"description": "What the cell printed",
                                      "content": {"text/plain": {"schema": {"type": "string"}}}},
                              **_errors(401, 413, 500, 504)}}
    doc = {"openapi": "3.1.0",
           "info": {"title": f"{name} endpoint", "version": version.version,
                    "description": f"Served from {version.spec.notebook} by jupyter_mlprod."},
           "paths": paths}
    if server_url:
        doc["servers"] = [{"url": server_url}]
    if needs_key:
        doc["components"] = {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}}
        doc["security"] = [{"bearer": []}, {"apiKey": []}]
    return doc
