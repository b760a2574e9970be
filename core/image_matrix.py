"""The version matrix: the NVIDIA driver of each AMI release the node classes pin, against the CUDA, EFA installer,
aws-ofi-nccl, libfabric and NCCL inside each GPU image. Checked at synth: an image whose CUDA needs a newer driver
than its nodes carry is refused, with both versions named (checked on CHECKED_ON).

The rule is NVIDIA's minor version compatibility (docs.nvidia.com/deploy/cuda-compatibility, "Minor Version
Compatibility", Table 1): an application built with CUDA 13.x runs on driver 580 or later, 12.x on 525 or later,
11.x on 450 or later. A newer toolkit on an older branch needs NVIDIA's forward-compatibility package, which the
kit neither installs nor turns on (vLLM 0.30.0's image keeps VLLM_ENABLE_CUDA_COMPATIBILITY=0).

Drivers per AMI release, as published:
- AL2023: awslabs/amazon-eks-ami CHANGELOG.md, package kmod-nvidia-latest-dkms of AL2023_x86_64_NVIDIA, for the
  releases listed (read at the repository's 2026-07-23 snapshot, whose newest release is v20260714).
- Bottlerocket: the NVIDIA kernel modules come from bottlerocket-kernel-kit. v1.53.0 (2026-01) moved every NVIDIA
  variant to R580 (bottlerocket PR 4737, "Migrate all nvidia variants to use nvidia R580 drivers"; kernel-kit issue
  254: "All Bottlerocket AMIs are on 580"); kernel-kit v5.0.0 removed R570 and v5.5.0 (2026-05-11) moved R580 to
  580.159.03; v1.66.0 (2026-09-18) ships kernel-kit 9.2.0 (bottlerocket PR 4946).
A release between two recorded ones of the same branch is on that branch; any other unrecorded release is not
checked, and the summary says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.derived_images import AWS_OFI_NCCL, LIBFABRIC, VLLM_BASE_CUDA, VLLM_BASE_NCCL
from core.versions import AMI_VERSIONS, EFA_INSTALLER

CHECKED_ON = "2026-12-05"


@dataclass(frozen=True)
class Driver:
    version: str
    """A full driver version, or a branch ('580') where only the branch is known."""
    source: str

    @property
    def branch(self) -> int:
        return int(self.version.split(".")[0])


_EKS_AMI = "awslabs/amazon-eks-ami CHANGELOG.md, AMI Release {}: kmod-nvidia-latest-dkms (AL2023_x86_64_NVIDIA)"

AMI_DRIVERS: dict[str, dict[str, Driver]] = {
    "al2023": {
        **{
            release: Driver(version, _EKS_AMI.format(release))
            for release, version in (
                ("v20250519", "570.133.20"),
                ("v20250704", "570.158.01"),
                ("v20250715", "575.57.08"),
                ("v20250807", "570.172.08"),
                ("v20250920", "570.172.08"),
                ("v20251016", "570.195.03"),
                ("v20251023", "580.95.05"),
                ("v20251120", "580.105.08"),
                ("v20260120", "580.126.09"),
                ("v20260505", "580.126.09"),
                ("v20260610", "580.159.03"),
                ("v20260714", "580.159.03"),
            )
        },
        # The kit's pin is ten days newer than the newest release in the notes read here; every release from
        # v20251023 to v20260714 carries R580.
        "v20260724": Driver("580", "not in the notes read (newest v20260714); R580 in every AL2023 NVIDIA release since v20251023"),
    },
    "bottlerocket": {
        "v1.53.0": Driver("580", "bottlerocket PR 4737 (v1.53.0): every NVIDIA variant moves to R580"),
        "v1.65.0": Driver(
            "580",
            "R580 since v1.53.0 and still in v1.66.0 (kernel-kit 9.2.0); at least 580.159.03 once kernel-kit v5.5.0 "
            "(2026-05-11) is in; the v1.65.0 notes themselves were not read here",
        ),
    },
}

# NVIDIA minor version compatibility: CUDA major -> the oldest driver branch that runs it.
CUDA_MIN_DRIVER = {13: "580", 12: "525.60.13", 11: "450.80.02"}


@dataclass(frozen=True)
class ImageStack:
    cuda: str | None
    """The CUDA toolkit the image is built on; None where it was not read."""
    nccl: str | None = None
    efa_installer: str | None = None
    aws_ofi_nccl: str | None = None
    libfabric: str | None = None
    source: str = ""


def _image_stacks() -> dict[str, ImageStack]:
    vllm = "vllm sdist docker/Dockerfile at v0.30.0: ARG CUDA_VERSION=13.0.3, ARG NCCL_VERSION=2.30.7 (nvidia-nccl-cu13)"
    derived = (
        f"images/vllm-efa/Dockerfile FROM vllm, EFA installer {EFA_INSTALLER[0]} "
        f"(AWS EFA release notes: aws-ofi-nccl {AWS_OFI_NCCL}, libfabric {LIBFABRIC})"
    )
    efa = {"efa_installer": EFA_INSTALLER[0], "aws_ofi_nccl": AWS_OFI_NCCL, "libfabric": LIBFABRIC}
    return {
        "vllm": ImageStack(VLLM_BASE_CUDA, VLLM_BASE_NCCL, source=vllm),
        "vllm-efa": ImageStack(VLLM_BASE_CUDA, VLLM_BASE_NCCL, **efa, source=derived),
        "nccl-tests-efa": ImageStack(
            VLLM_BASE_CUDA, VLLM_BASE_NCCL, **efa, source="images/nccl-tests-efa/Dockerfile FROM vllm-efa, built against its NCCL wheel"
        ),
        "triton": ImageStack("13.4.1", source="NVIDIA Triton Inference Server release notes 26.08: based on CUDA 13.4.1"),
        "ray-llm": ImageStack("13.0", source="rayproject/ray-llm tag -cu130 (docker/ray-llm/Dockerfile: CUDA 13.0)"),
        # The Dynamo runtimes: the EFA variant runs EFA installer 1.50 (core/images.py); their CUDA was not read here.
        "dynamo-vllm": ImageStack(None, source="CUDA not read here: not checked"),
        "dynamo-vllm-efa": ImageStack(
            None, efa_installer="1.50.0", source="ai-dynamo/dynamo container/templates/aws.Dockerfile; CUDA not read here: not checked"
        ),
    }


def image_stack(image_key: str) -> ImageStack | None:
    return _image_stacks().get(image_key)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def driver_for(family: str, release: str | None) -> Driver | None:
    """The driver of an AMI release: recorded, or the branch of the recorded releases around it when they agree."""
    release = release or AMI_VERSIONS[family]
    recorded = AMI_DRIVERS.get(family, {})
    if release in recorded:
        return recorded[release]
    order = sorted(recorded, key=_release_key)
    before = [r for r in order if _release_key(r) < _release_key(release)]
    after = [r for r in order if _release_key(r) > _release_key(release)]
    if before and after and recorded[before[-1]].branch == recorded[after[0]].branch:
        branch = recorded[before[-1]].branch
        return Driver(str(branch), f"between {before[-1]} and {after[0]}, both R{branch}")
    return None


def _release_key(release: str) -> tuple[int, ...]:
    return _version(release.lstrip("v"))


def required_driver(cuda: str) -> str:
    return CUDA_MIN_DRIVER[_version(cuda)[0]]


def satisfies(driver: Driver, needed: str) -> bool:
    """Whether a driver meets a minimum. Where only the driver's branch is known, a branch above the minimum's
    meets it, one below does not, and the same branch is taken to (a branch is how NVIDIA states the 13.x floor)."""
    have, need = _version(driver.version), _version(needed)
    if len(have) == 1:
        return have[0] >= need[0]
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


@dataclass(frozen=True)
class DriverMismatch:
    image: str
    cuda: str
    needed: str
    family: str
    release: str
    driver: Driver

    def describe(self) -> str:
        return (
            f"the {self.image} image is built on CUDA {self.cuda}, which needs NVIDIA driver {self.needed} or later "
            f"(NVIDIA's minor version compatibility), but {self.family}@{self.release} carries driver {self.driver.version} "
            f"({self.driver.source})"
        )


def mismatch(image_key: str, family: str, release: str | None) -> DriverMismatch | None:
    """The refusal for one image on one AMI release, or None when it fits or either side is not recorded."""
    stack = image_stack(image_key)
    release = release or AMI_VERSIONS[family]
    driver = driver_for(family, release)
    if stack is None or stack.cuda is None or driver is None:
        return None
    needed = required_driver(stack.cuda)
    return None if satisfies(driver, needed) else DriverMismatch(image_key, stack.cuda, needed, family, release, driver)
