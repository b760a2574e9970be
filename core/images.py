"""What each pinned image carries that the kit relies on, with the evidence (read 2026-11-29).

The blueprints and their checks read this record: NCCL is pointed at EFA (NCCL_NET=ofi) only in an image
that carries the aws-ofi-nccl plugin (NCCL fails to initialise when the named network is missing); an S3
model is streamed only by an image with the Run:ai streamer; an image's own entrypoint is kept (containers
set `args`, never `command`, where the entrypoint prepares the environment). A custom `image` declares what
it carries with `image_provides`; nothing else is assumed of it.

Evidence was read from the images' build files and the packages at the pinned versions; no image was pulled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.versions import IMAGES

Capability = Literal["ray", "aws-ofi-nccl", "efa-libfabric", "runai-model-streamer"]
CAPABILITIES: tuple[Capability, ...] = ("ray", "aws-ofi-nccl", "efa-libfabric", "runai-model-streamer")


@dataclass(frozen=True)
class ImageFacts:
    key: str
    """The key of the image in core.versions.IMAGES."""
    provides: frozenset[Capability]
    entrypoint: tuple[str, ...]
    user: str
    """The user the image runs as, and the non-root user it offers, if any."""
    run_as: int
    """The UID the kit runs it as: the image's own non-root user (the workloads namespace admits no root)."""
    home: str | None
    """A HOME the kit mounts writable (an emptyDir) for caches, where the image's own is missing or root's; None:
    the image's HOME already belongs to run_as."""
    vllm: str | None
    """The vLLM version inside, where there is one."""
    evidence: tuple[str, ...]

    @property
    def reference(self) -> str:
        return IMAGES[self.key]


IMAGE_FACTS: dict[str, ImageFacts] = {
    "vllm": ImageFacts(
        key="vllm",
        provides=frozenset({"runai-model-streamer"}),
        entrypoint=("vllm", "serve"),
        user="root (uid 0); the image also has user vllm, uid 2000, gid 0, HOME /home/vllm",
        run_as=2000,
        home="/home/vllm",
        vllm="0.30.0",
        evidence=(
            "vllm 0.30.0 sdist docker/Dockerfile (commit ced6857af): final stage installs runai-model-streamer[s3,gcs,azure]>=0.15.7, "
            'ENTRYPOINT ["vllm", "serve"], \'# USER vllm\' commented out; no EFA installer, libfabric or aws-ofi-nccl step',
            "vllm-0.30.0 wheel METADATA: no Requires-Dist on ray and no ray extra; ray appears only in requirements/tpu.txt and xpu.txt",
        ),
    ),
    # Built by the kit (images/vllm-efa/Dockerfile, core/derived_images.py): the image above plus the EFA installer.
    "vllm-efa": ImageFacts(
        key="vllm-efa",
        provides=frozenset({"runai-model-streamer", "efa-libfabric", "aws-ofi-nccl"}),
        entrypoint=("vllm", "serve"),
        user="root (uid 0), as its base; user vllm, uid 2000, gid 0, HOME /home/vllm",
        run_as=2000,
        home="/home/vllm",
        vllm="0.30.0",
        evidence=(
            "images/vllm-efa/Dockerfile: FROM the pinned vllm/vllm-openai (checked at build: vllm 0.30.0, CUDA 13.0.3, "
            "nvidia-nccl-cu13 2.30.7); the EFA installer 1.50.0 (SHA256-pinned) installs /opt/amazon/efa (libfabric "
            "2.6.0amzn1.0 with the efa provider), /opt/amazon/ofi-nccl/lib/libnccl-net-ofi.so (aws-ofi-nccl 1.21.1) and "
            "/opt/amazon/openmpi, all on LD_LIBRARY_PATH; no USER or ENTRYPOINT of its own, so the base's stay",
        ),
    ),
    "triton": ImageFacts(
        key="triton",
        provides=frozenset(),
        entrypoint=("/opt/nvidia/nvidia_entrypoint.sh",),
        user="root (no USER in the generated Dockerfile); user triton-server, uid 1000, exists",
        run_as=1000,
        home="/home/triton-server",
        vllm="0.27.1+nv26.8",
        evidence=(
            "triton-inference-server/server r26.08 docs/introduction/compatibility.md: 26.08-vllm-python-py3 carries vLLM 0.27.1+b1082979.nv26.8",
            "server r26.08 build.py: vLLM comes from nvcr.io/nvidia/vllm:26.08-py3; Triton adds no runai-model-streamer, libfabric or aws-ofi-nccl, "
            "and NGC's vLLM release notes list neither: not relied on",
        ),
    ),
    "dynamo-vllm": ImageFacts(
        key="dynamo-vllm",
        provides=frozenset({"runai-model-streamer"}),
        # Not pinned at 1.4.2: older templates set /opt/nvidia/nvidia_entrypoint.sh, newer ones none. The pods set
        # `command`; the EFA variant's libraries are on the path through ENV and ld.so.conf, not the entrypoint.
        entrypoint=(),
        user="dynamo (uid 1000, gid 0), HOME /home/dynamo",
        run_as=1000,
        home=None,
        vllm="0.26.0",
        evidence=(
            "ai-dynamo/dynamo release data for v1.4.2: vllm-runtime carries vLLM 0.26.0; the ai-dynamo 1.4.2 wheel's vllm extra pins vllm==0.26.0",
            "container/templates/vllm_runtime.Dockerfile: FROM vllm/vllm-openai (which installs the Run:ai streamer), no EFA installer, "
            "libfabric or aws-ofi-nccl copied into the runtime stage; USER dynamo; ENTRYPOINT /opt/nvidia/nvidia_entrypoint.sh",
        ),
    ),
    "dynamo-vllm-efa": ImageFacts(
        key="dynamo-vllm-efa",
        provides=frozenset({"runai-model-streamer", "efa-libfabric", "aws-ofi-nccl"}),
        entrypoint=(),
        user="dynamo (uid 1000, gid 0), HOME /home/dynamo",
        run_as=1000,
        home=None,
        vllm="0.26.0",
        evidence=(
            "ai-dynamo/dynamo container/templates/aws.Dockerfile: the -efa variant runs the AWS EFA installer (v1.50 for 1.4.2) with "
            "--build-ngc, installing /opt/amazon/efa libfabric and the aws-ofi-nccl plugin, LD_LIBRARY_PATH includes /opt/amazon/efa/lib",
        ),
    ),
    "dynamo-frontend": ImageFacts(
        key="dynamo-frontend",
        provides=frozenset(),
        entrypoint=(),
        user="dynamo (uid 1000, gid 0)",
        run_as=1000,
        home=None,
        vllm=None,
        evidence=("ai-dynamo/dynamo release data for v1.4.2 lists nvcr.io/nvidia/ai-dynamo/dynamo-frontend:1.4.2",),
    ),
    "inference-perf": ImageFacts(
        key="inference-perf",
        provides=frozenset(),
        entrypoint=(),
        user="root (python:3.12.11-alpine3.22, no USER); no ENTRYPOINT, CMD python inference_perf/main.py",
        # nobody: the runner needs no account of its own; HOME and every cache point into its emptyDir.
        run_as=65534,
        home=None,
        vllm=None,
        evidence=("kubernetes-sigs/inference-perf v0.6.1 Dockerfile and pdm.lock: boto3 1.43.38 in the runtime venv",),
    ),
    "ray-llm": ImageFacts(
        key="ray-llm",
        # Ray itself. Not relied on: runai-model-streamer (vLLM's `runai` extra; ray[llm] asks for vllm[audio] only),
        # aws-ofi-nccl and libfabric (no EFA installer in docker/ray-llm or docker/base-deps): unknown, so absent.
        provides=frozenset({"ray"}),
        # KubeRay writes the Ray container's command (`ray start ... --block`); the image's own is never run.
        entrypoint=(),
        user="ray (uid 1000, gid 100), HOME /home/ray; passwordless sudo, which allowPrivilegeEscalation: false disables",
        run_as=1000,
        home=None,
        vllm="0.29.0",
        evidence=(
            "ray 2.60.0 wheel METADATA: Requires-Dist vllm[audio]==0.29.0; extra == 'llm' (no runai extra, no boto3 in the "
            "llm extra); ray-project/ray docker/ray-llm/Dockerfile installs python/deplocks/llm/rayllm_py312_cu130.lock and "
            "exits on any Python but 3.12, CUDA 13.0 (so the host driver must be R580 or later)",
            "ray-project/ray docker/base-deps/Dockerfile: useradd ray --uid 1000 --gid 100, USER 1000, HOME /home/ray, sudoers "
            "NOPASSWD; requirements.in installs boto3 and smart_open[s3] (Ray Serve LLM's S3 download uses boto3); wget is "
            "installed (KubeRay's worker readiness probe runs it)",
            "vllm 0.29.0 wheel: kv_offloading_size keeps the CPU tier in /dev/shm/vllm_offload_<engine>.mmap "
            "(v1/kv_offload/cpu/shared_offload_region.py), as 0.30.0 does",
        ),
    ),
}


def provided_by(image_key: str, custom_image: str | None, declared: list[str] | tuple[str, ...] | None) -> frozenset[str]:
    """What the image a workload runs carries: the pinned image's record, or what a custom image declares."""
    if custom_image is not None:
        return frozenset(declared or ())
    return IMAGE_FACTS[image_key].provides
