"""What the cluster holds after a deploy where the kit patches objects instead of applying them."""

from __future__ import annotations

import json

from tests.helpers import helm_values, kubernetes_objects, resources


def patched_kubernetes_objects(template: dict) -> dict[str, list[dict]]:
    """kubernetes_objects with each KubernetesPatch of type json applied to the object it names (only `add`, the
    operation the kit writes: RFC 6902 replaces an existing member whole)."""
    objects = kubernetes_objects(template)
    by_name = {(obj["kind"].lower() + "s", obj["metadata"]["name"]): obj for items in objects.values() for obj in items}
    for body in resources(template, "Custom::AWSCDK-EKS-KubernetesPatch").values():
        properties = body["Properties"]
        assert properties["PatchType"] == "json", properties["PatchType"]
        plural, name = properties["ResourceName"].split("/")
        target = by_name[(plural.split(".")[0], name)]
        for operation in json.loads(helm_values(properties["ApplyPatchJson"])):
            assert operation["op"] == "add", operation
            *parents, last = operation["path"].lstrip("/").split("/")
            node = target
            for key in parents:
                node = node[key]
            node[last] = operation["value"]
    return objects
