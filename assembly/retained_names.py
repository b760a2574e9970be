"""Teardown and re-create stay clean: no resource both survives a destroy and takes a fixed physical name.

A destroy leaves every resource whose DeletionPolicy retains it; the next deploy creates the resource again, and
if the template fixes its name (a bucket's BucketName, a log group's LogGroupName, an ECR RepositoryName), the name
is still taken and the create fails. A name built from the stack's id differs on every creation and is safe. The
name properties come from each type's resource schema (plan_schema.ResourceSchema.name_properties).
"""

from __future__ import annotations

from dataclasses import dataclass

from assembly.plan_assembly import Assembly
from assembly.plan_facts import retained
from assembly.plan_schema import Schemas
from assembly.plan_tokens import deployment_unique
from assembly.plan_values import short

# Pairs the kit keeps on purpose, each with the manual step a re-create needs, documented where the phrase is found.
DOCUMENTED = {
    # The model bucket keeps the staged weights; a re-deploy adopts it by name.
    ("AWS::S3::Bucket", "Models/Bucket/Resource"): ("docs/upgrades.md", "storage.model_bucket.existing_bucket_name"),
}


@dataclass(frozen=True)
class NamedResource:
    """A resource whose physical name the template sets (a bucket name, a log group name), and where it is."""

    stack: str
    logical_id: str
    path: str
    type: str
    prop: str
    name: str
    retained: bool
    unique: bool
    """The name differs on every creation of the stack."""

    @property
    def documented(self) -> tuple[str, str] | None:
        for (kind, suffix), where in DOCUMENTED.items():
            if kind == self.type and self.path.endswith(suffix):
                return where
        return None

    @property
    def collides(self) -> bool:
        return self.retained and not self.unique


def named_resources(assembly: Assembly, schemas: Schemas) -> list[NamedResource]:
    found = []
    for template in assembly.templates.values():
        for logical_id, body in template.resources.items():
            schema = schemas.get(body.get("Type", ""))
            if schema is None:
                continue
            props = body.get("Properties", {})
            for prop in schema.name_properties:
                if prop in props:
                    found.append(
                        NamedResource(
                            template.name,
                            logical_id,
                            template.path_of(logical_id),
                            body["Type"],
                            prop,
                            short(props[prop], 90),
                            retained(body),
                            deployment_unique(props[prop]),
                        )
                    )
    return found


def retained_resources(assembly: Assembly) -> list[tuple[str, str, str]]:
    """(stack, path, type) of every resource a destroy leaves behind."""
    return [
        (template.name, template.path_of(lid), body["Type"])
        for template in assembly.templates.values()
        for lid, body in template.resources.items()
        if retained(body)
    ]


def collisions(assembly: Assembly, schemas: Schemas) -> tuple[list[NamedResource], list[NamedResource]]:
    """(undocumented, documented): retained resources with a fixed name."""
    hits = [named for named in named_resources(assembly, schemas) if named.collides]
    return [n for n in hits if n.documented is None], [n for n in hits if n.documented is not None]


def describe(named: NamedResource) -> str:
    where = named.documented
    step = (
        f"documented: {where[0]} ({where[1]})"
        if where
        else "a re-deploy after a destroy fails on the name: derive it from the stack id, drop the Retain, or document the manual step"
    )
    return f"{named.stack}: {named.path} ({named.type}) is retained with the fixed {named.prop} {named.name}; {step}"
