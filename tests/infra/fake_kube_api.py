"""A stand-in Kubernetes API server for the kit's in-cluster programs: objects by path, merge and JSON patches, posts."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from infra.gpu.kube_api import Api

TOKEN = "t0ken"


def merged(base: dict, patch: dict) -> dict:
    """JSON merge patch (RFC 7386): maps merge, anything else replaces."""
    out = dict(base)
    for key, value in patch.items():
        out[key] = merged(out.get(key) or {}, value) if isinstance(value, dict) else value
    return out


class PatchRejected(Exception):
    """A JSON patch that cannot apply (a `test` that does not match, a path that is not there): the API server
    answers 422 and writes nothing."""


def _walk(document: Any, pointer: str) -> tuple[dict[str, Any] | list[Any], str]:
    """The container a JSON pointer (RFC 6901) ends in, and its last token."""
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
    for token in tokens[:-1]:
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document, tokens[-1]


def json_patched(base: dict, operations: list[dict]) -> dict:
    """JSON patch (RFC 6902): test, add, remove, replace; all or nothing, as the API server applies it."""
    out = copy.deepcopy(base)
    for operation in operations:
        try:
            parent, token = _walk(out, operation["path"])
        except (KeyError, IndexError, ValueError) as missing:
            raise PatchRejected(operation["path"]) from missing
        if isinstance(parent, list):
            index = len(parent) if token == "-" else int(token)
            if index > len(parent) or (index == len(parent) and operation["op"] != "add"):
                raise PatchRejected(operation["path"])
            if operation["op"] == "test":
                if parent[index] != operation["value"]:
                    raise PatchRejected(operation["path"])
            elif operation["op"] == "add":
                parent.insert(index, operation["value"])
            elif operation["op"] == "remove":
                del parent[index]
            elif operation["op"] == "replace":
                parent[index] = operation["value"]
        elif operation["op"] == "test":
            if parent.get(token) != operation["value"]:
                raise PatchRejected(operation["path"])
        elif operation["op"] in ("add", "replace"):
            parent[token] = operation["value"]
        elif operation["op"] == "remove":
            if token not in parent:
                raise PatchRejected(operation["path"])
            del parent[token]
    return out


class FakeKubeApi:
    def __init__(self, objects: dict[str, dict]) -> None:
        self.objects = objects
        self.calls: list[tuple[str, str, dict | list | None]] = []
        self.after_get: list[Callable[[dict[str, dict]], None]] = []
        """Changes other writers make after a GET is answered, one per GET: the race between a read and a write."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _body(self) -> dict | list | None:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else None

            def _handle(self, method: str) -> None:
                assert self.headers["Authorization"] == f"Bearer {TOKEN}"
                body = self._body()
                fake.calls.append((method, self.path, body))
                status = 200
                data = b""
                if method == "PATCH" and self.headers["Content-Type"] == "application/json-patch+json":
                    try:
                        assert isinstance(body, list), body
                        fake.objects[self.path] = json_patched(fake.objects[self.path], body)
                    except PatchRejected as failed:
                        status = 422
                        data = json.dumps({"kind": "Status", "code": 422, "message": f"the patch does not apply at {failed}"}).encode()
                elif method == "PATCH":
                    assert self.headers["Content-Type"] == "application/merge-patch+json"
                    assert isinstance(body, dict), body
                    fake.objects[self.path] = merged(fake.objects[self.path], body)
                if method == "POST":
                    fake.objects.setdefault(self.path, {"items": []})["items"].append(body)
                if status == 200:
                    data = json.dumps(fake.objects.get(self.path, {})).encode()
                if method == "GET" and fake.after_get:
                    fake.after_get.pop(0)(fake.objects)  # the reply is already taken: the change lands after the read
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                self._handle("GET")

            def do_PATCH(self):  # noqa: N802
                self._handle("PATCH")

            def do_POST(self):  # noqa: N802
                self._handle("POST")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's parameter name)
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.api = Api(f"http://127.0.0.1:{self.server.server_port}", TOKEN, None)

    def writes(self) -> list[tuple[str, str, dict | list | None]]:
        return [call for call in self.calls if call[0] != "GET"]

    def close(self) -> None:
        self.server.shutdown()
