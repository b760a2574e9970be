"""Config of the optional CDK Pipelines (CodePipeline) deployment of the kit."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from core.schema import StrictModel


class Pipeline(StrictModel):
    enabled: bool = False
    """Deploy through a self-updating CodePipeline instead of `cdk deploy` from a laptop or CI runner.
    The app then holds one pipeline stack, and the kit's stacks become its Deploy stage."""
    connection_arn: Annotated[
        str | None, Field(pattern=r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]+$")
    ] = None
    """AWS CodeConnections connection to the Git host (create it once in the console and authorise it)."""
    repository: Annotated[str | None, Field(pattern=r"^[\w.-]+/[\w.-]+$", examples=["acme/llm-serving"])] = None
    """The repository holding this kit, owner/name."""
    branch: Annotated[str, Field(min_length=1)] = "main"
    """Branch whose pushes run the pipeline."""
    config_path: Annotated[str, Field(pattern=r"^[\w./-]+\.ya?ml$")] = "config/default.yaml"
    """This config file's path inside the repository: the pipeline synthesizes with KIT_CONFIG set to it."""
    manual_approval: bool = True
    """Wait for a person to approve in CodePipeline before the Deploy stage changes anything."""
