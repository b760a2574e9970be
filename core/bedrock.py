"""Amazon Bedrock model ids as the gateway calls them: a foundation model, or a system-defined cross-Region inference
profile, whose id is the model's id behind the geography it routes within (us.anthropic.claude-... , global.amazon...).

A profile can be called only from a source Region of its geography, and its IAM grant differs by kind (AWS Bedrock
User Guide: geographic-cross-region-inference.html and global-cross-region-inference.html, section "IAM policy
requirements"; infra/routing/bedrock.py writes it). The geographies and their source Regions follow the Bedrock
User Guide's "Supported Regions and models for inference profiles" as aws-cdk v2.275's bedrock-alpha
CrossRegionInferenceProfileRegion encodes them (us, us-gov, eu, apac with the Middle East, jp, au, global), plus ca.
(Canada). A Region outside every list here may still serve a foundation model id.
"""

from __future__ import annotations

from dataclasses import dataclass

# Region-name prefixes (or whole names) of each geography's source Regions.
_SOURCE_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-", "us-west-"),
    "us-gov": ("us-gov-",),
    "eu": ("eu-",),
    "apac": ("ap-", "me-"),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
    "ca": ("ca-",),
}
# Global profiles serve the commercial partition: every Region but GovCloud, China, the isolated and the sovereign ones.
_NOT_COMMERCIAL = ("us-gov-", "us-iso", "cn-", "eusc-")
GLOBAL = "global"
GEOGRAPHIES = (*_SOURCE_REGIONS, GLOBAL)


@dataclass(frozen=True)
class InferenceProfile:
    geography: str
    """us, us-gov, eu, apac, jp, au, ca or global."""
    model: str
    """The foundation model's id the profile routes to (the profile id without its geography)."""

    @property
    def is_global(self) -> bool:
        return self.geography == GLOBAL


def inference_profile(model_id: str) -> InferenceProfile | None:
    """The profile a model id names, or None for a foundation model id (provider.model)."""
    geography, _, model = model_id.partition(".")
    if geography in GEOGRAPHIES and "." in model:
        return InferenceProfile(geography, model)
    return None


def serves(geography: str, region: str) -> bool:
    """Whether a profile of this geography may be called from this Region (its source Regions)."""
    if geography == GLOBAL:
        return not region.startswith(_NOT_COMMERCIAL)
    return region.startswith(_SOURCE_REGIONS[geography])


def geographies_of(region: str) -> list[str]:
    """The geographies whose profiles this Region may call."""
    return [geography for geography in GEOGRAPHIES if serves(geography, region)]
