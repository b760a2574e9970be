"""A Kubernetes API client in the Python standard library, for the kit's small in-cluster programs (shipped in
ConfigMaps beside them and run on a plain Python image): the capacity-block reconciler and the burn-in verdict."""

from __future__ import annotations

import json
import ssl
import urllib.request

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


class Api:
    def __init__(self, base_url: str, token: str, context: ssl.SSLContext | None) -> None:
        self.base_url, self.token, self.context = base_url, token, context

    @classmethod
    def in_cluster(cls) -> Api:
        with open(f"{SERVICE_ACCOUNT}/token") as token:
            context = ssl.create_default_context(cafile=f"{SERVICE_ACCOUNT}/ca.crt")
            return cls("https://kubernetes.default.svc", token.read().strip(), context)

    def call(
        self, method: str, path: str, body: dict | list[dict] | None = None, content_type: str = "application/merge-patch+json"
    ) -> dict:
        """body: an object, or a JSON patch (a list of operations, content_type application/json-patch+json)."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
            return json.loads(response.read())
