"""A stand-in Kubernetes API server for the kit's in-cluster programs: objects by path, merge patches, posts."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from infra.gpu.kube_api import Api

TOKEN = "t0ken"


def merged(base: dict, patch: dict) -> dict:
    """JSON merge patch (RFC 7386): maps merge, anything else replaces."""
    out = dict(base)
    for key, value in patch.items():
        out[key] = merged(out.get(key) or {}, value) if isinstance(value, dict) else value
    return out


class FakeKubeApi:
    def __init__(self, objects: dict[str, dict]) -> None:
        self.objects = objects
        self.calls: list[tuple[str, str, dict | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _body(self) -> dict | None:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else None

            def _handle(self, method: str) -> None:
                assert self.headers["Authorization"] == f"Bearer {TOKEN}"
                body = self._body()
                fake.calls.append((method, self.path, body))
                if method == "PATCH":
                    assert self.headers["Content-Type"] == "application/merge-patch+json"
                    fake.objects[self.path] = merged(fake.objects[self.path], body)
                if method == "POST":
                    fake.objects.setdefault(self.path, {"items": []})["items"].append(body)
                data = json.dumps(fake.objects.get(self.path, {})).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                self._handle("GET")

            def do_PATCH(self):  # noqa: N802
                self._handle("PATCH")

            def do_POST(self):  # noqa: N802
                self._handle("POST")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.api = Api(f"http://127.0.0.1:{self.server.server_port}", TOKEN, None)

    def writes(self) -> list[tuple[str, str, dict | None]]:
        return [call for call in self.calls if call[0] != "GET"]

    def close(self) -> None:
        self.server.shutdown()
