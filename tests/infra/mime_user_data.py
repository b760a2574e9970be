"""AL2023 user data read as nodeadm reads it: a MIME multipart whose application/node.eks.aws parts are NodeConfigs."""

from __future__ import annotations

import email

import yaml

NODE_CONFIG_TYPE = "application/node.eks.aws"


def parts(user_data: str) -> list[tuple[str, str]]:
    """(content type, text) of each part of the multipart, in order."""
    message = email.message_from_string(user_data)
    assert message.is_multipart(), "AL2023 user data that is not MIME multipart"
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload()
        assert isinstance(payload, str), f"a {part.get_content_type()} part without text"
        found.append((part.get_content_type(), payload))
    return found


def node_configs(user_data: str) -> list[dict]:
    """The NodeConfig documents; nodeadm reads the YAML into JSON (sigs.k8s.io/yaml), integers exact up to there."""
    documents = [yaml.safe_load(text) for kind, text in parts(user_data) if kind == NODE_CONFIG_TYPE]
    assert documents, "AL2023 user data without a NodeConfig part"
    return documents
