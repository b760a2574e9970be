"""The public images the kit runs, one record each: the pin, what the image carries with the evidence, its size for
the cold-start model, and the user the kit runs it as (core/image_record.py says what a record holds).

Pins follow core/versions.py's convention: each reference carries, right above it, one line "newest patch of X.Y as
of <core.versions.CHECKED_ON>: <version>; notes read <from>..<to>: <the line that mattered>" (tests/test_pins.py).
What an image carries was read in its build files and the packages at the pinned versions (read 2026-11-29); no
image was pulled. Sizes are compressed sizes, estimated from the sizes published for nearby tags (no registry is
reachable where the kit is built, so the pinned tags were not weighed; checked on core.cold_start.CHECKED_ON).
Refresh one with `crane manifest <image> | jq '[.layers[].size] | add'` and date the change.

The images the kit builds on these are core/derived_images.py's; core/images.py holds both in one table.
"""

from __future__ import annotations

from core.image_record import ImageRecord

_NEARBY_TAGS = "estimate from the sizes published for nearby tags"

PINNED: dict[str, ImageRecord] = {
    record.key: record
    for record in (
        ImageRecord(
            key="inference-perf",
            # Benchmark load generator (kubernetes-sigs/inference-perf release v0.6.1, 2026-07-23); it also fetches the
            # dataset (boto3).
            # newest patch of 0.6 as of 2026-12-05: v0.6.1 (kubernetes-sigs/inference-perf tags); notes read v0.6.1..v0.6.1:
            # already the newest patch
            reference="quay.io/inference-perf/inference-perf:v0.6.1",
            user="root (python:3.12.11-alpine3.22, no USER); no ENTRYPOINT, CMD python inference_perf/main.py",
            # nobody: the runner needs no account of its own; HOME and every cache point into its emptyDir.
            run_as=65534,
            evidence=("kubernetes-sigs/inference-perf v0.6.1 Dockerfile and pdm.lock: boto3 1.43.38 in the runtime venv",),
            size_gb=0.3,
            size_basis=_NEARBY_TAGS,
        ),
        ImageRecord(
            key="vllm",
            # vLLM's OpenAI-compatible server.
            # newest patch of 0.30 as of 2026-12-05: v0.30.0 (PyPI vllm: 0.30.0, then 0.31.0); notes read v0.30.0..v0.30.0:
            # already the newest patch
            reference="vllm/vllm-openai:v0.30.0",
            provides=frozenset({"runai-model-streamer"}),
            entrypoint=("vllm", "serve"),
            user="root (uid 0); the image also has user vllm, uid 2000, gid 0, HOME /home/vllm",
            run_as=2000,
            home="/home/vllm",
            vllm="0.30.0",
            evidence=(
                "vllm 0.30.0 sdist docker/Dockerfile (commit ced6857af): final stage installs "
                'runai-model-streamer[s3,gcs,azure]>=0.15.7, ENTRYPOINT ["vllm", "serve"], \'# USER vllm\' commented out; '
                "no EFA installer, libfabric or aws-ofi-nccl step",
                "vllm-0.30.0 wheel METADATA: no Requires-Dist on ray and no ray extra; ray appears only in "
                "requirements/tpu.txt and xpu.txt",
            ),
            size_gb=10.5,
            size_basis=_NEARBY_TAGS + " on Docker Hub",
        ),
        ImageRecord(
            key="triton",
            # Triton with the vLLM backend.
            # newest patch of 26.08 as of 2026-12-05: 26.08 (NGC containers are monthly YY.MM releases, never patched in
            # place); notes read 26.08..26.08: already the newest patch
            reference="nvcr.io/nvidia/tritonserver:26.08-vllm-python-py3",
            entrypoint=("/opt/nvidia/nvidia_entrypoint.sh",),
            user="root (no USER in the generated Dockerfile); user triton-server, uid 1000, exists",
            run_as=1000,
            home="/home/triton-server",
            vllm="0.27.1+nv26.8",
            evidence=(
                "triton-inference-server/server r26.08 docs/introduction/compatibility.md: 26.08-vllm-python-py3 carries "
                "vLLM 0.27.1+b1082979.nv26.8",
                "server r26.08 build.py: vLLM comes from nvcr.io/nvidia/vllm:26.08-py3; Triton adds no runai-model-streamer, "
                "libfabric or aws-ofi-nccl, and NGC's vLLM release notes list neither: not relied on",
            ),
            size_gb=13.0,
            size_basis=_NEARBY_TAGS,
        ),
        ImageRecord(
            key="dynamo-vllm",
            # Dynamo's vLLM runtime.
            # newest patch of 1.4 as of 2026-12-05: 1.4.2 (PyPI ai-dynamo: 1.4.2, then 1.5.0; images release with it); notes
            # read 1.4.2..1.4.2: already the newest patch
            reference="nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.4.2",
            provides=frozenset({"runai-model-streamer"}),
            # Not pinned at 1.4.2: older templates set /opt/nvidia/nvidia_entrypoint.sh, newer ones none. The pods set
            # `command`; the EFA variant's libraries are on the path through ENV and ld.so.conf, not the entrypoint.
            entrypoint=(),
            user="dynamo (uid 1000, gid 0), HOME /home/dynamo",
            run_as=1000,
            vllm="0.26.0",
            evidence=(
                "ai-dynamo/dynamo release data for v1.4.2: vllm-runtime carries vLLM 0.26.0; the ai-dynamo 1.4.2 wheel's vllm "
                "extra pins vllm==0.26.0",
                "container/templates/vllm_runtime.Dockerfile: FROM vllm/vllm-openai (which installs the Run:ai streamer), no "
                "EFA installer, libfabric or aws-ofi-nccl copied into the runtime stage; USER dynamo; ENTRYPOINT "
                "/opt/nvidia/nvidia_entrypoint.sh",
            ),
            size_gb=12.0,
            size_basis=_NEARBY_TAGS,
        ),
        ImageRecord(
            key="dynamo-vllm-efa",
            # The same runtime with AWS's libfabric and EFA provider inside, which NIXL's LIBFABRIC backend needs (NGC:
            # experimental).
            # newest patch of 1.4 as of 2026-12-05: 1.4.2 (as dynamo-vllm); notes read 1.4.2..1.4.2: already the newest patch
            reference="nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.4.2-efa",
            provides=frozenset({"runai-model-streamer", "efa-libfabric", "aws-ofi-nccl"}),
            entrypoint=(),
            user="dynamo (uid 1000, gid 0), HOME /home/dynamo",
            run_as=1000,
            vllm="0.26.0",
            evidence=(
                "ai-dynamo/dynamo container/templates/aws.Dockerfile: the -efa variant runs the AWS EFA installer (v1.50 for "
                "1.4.2) with --build-ngc, installing /opt/amazon/efa libfabric and the aws-ofi-nccl plugin, LD_LIBRARY_PATH "
                "includes /opt/amazon/efa/lib",
            ),
            size_gb=12.5,
            size_basis=_NEARBY_TAGS,
        ),
        ImageRecord(
            key="dynamo-frontend",
            # Dynamo's HTTP frontend alone: a small image for the CPU-only frontend pods.
            # newest patch of 1.4 as of 2026-12-05: 1.4.2 (as dynamo-vllm); notes read 1.4.2..1.4.2: already the newest patch
            reference="nvcr.io/nvidia/ai-dynamo/dynamo-frontend:1.4.2",
            entrypoint=(),
            user="dynamo (uid 1000, gid 0)",
            run_as=1000,
            evidence=("ai-dynamo/dynamo release data for v1.4.2 lists nvcr.io/nvidia/ai-dynamo/dynamo-frontend:1.4.2",),
            size_gb=1.2,
            size_basis=_NEARBY_TAGS,
        ),
        ImageRecord(
            key="endpoint-picker",
            # The endpoint picker (prefix-cache, KV-cache and queue scorers). Gateway API Inference Extension v1.6.0 moved it
            # to llm-d/llm-d-router; v0.10.0 (2026-08-17) is the first release after it, built on the extension's v1 API.
            # newest patch of 0.10 as of 2026-12-05: v0.10.0 (llm-d/llm-d-router tags); notes read v0.10.0..v0.10.0: already
            # the newest patch
            reference="ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0",
            user="65532 (the image's USER)",
            run_as=65532,
            evidence=("llm-d/llm-d-router Dockerfile.epp: USER 65532 (blueprints/common/routing.py runs it as that user)",),
        ),
        ImageRecord(
            key="kubectl",
            # kubectl alone (no shell), for the Job that applies CRDs published only as a release file
            # (infra/cluster/crd_bundles.py).
            # newest patch of 1.35 as of 2026-12-05: v1.35.7 (kubernetes/kubectl tag kubernetes-1.35.7, 2026-07-23; every
            # release builds this image: kubernetes build/common.sh get_docker_wrapped_binaries); notes read v1.35.1..v1.35.7:
            # kubectl itself only fixed `cp` path escaping and an exec terminal-size panic, nothing in `apply --server-side`
            reference="registry.k8s.io/kubectl:v1.35.7",
            user="the kubectl binary alone on a base without a shell",
            # nobody: kubectl needs no account of its own (infra/cluster/crd_bundles.py).
            run_as=65534,
            evidence=("kubernetes build/common.sh get_docker_wrapped_binaries: the kubectl binary on the release's base image",),
        ),
        ImageRecord(
            key="dcgm",
            # GPU burn-in (infra/gpu/burn_in.py). DCGM's full image (nv-hostengine, dcgmi and the CUDA diagnostic plugins;
            # the exporter's image lacks the plugins). The tag NVIDIA's GPU Operator v26.3.3 deploys beside dcgm-exporter
            # 4.5.3-4.8.2 (deployments/gpu-operator/values.yaml; its bundle pins the ubi9 twin, 4.5.2-1-ubi9@sha256:d7558fa7...).
            # No 4.5.3 DCGM image appears in NVIDIA's sources; the DCGM repo's docker/Makefile still names 4.4.1-2.
            # newest patch of 4.5 as of 2026-12-05: 4.5.2-1 (the newest DCGM image NVIDIA's GPU Operator v26.3.3 deploys);
            # notes read 4.5.2..4.5.2: kept at the tag an NVIDIA release ships, since no later 4.5 image is shown to exist
            reference="nvcr.io/nvidia/cloud-native/dcgm:4.5.2-1-ubuntu22.04",
            user="root; the image has no other user",
            # Root with every capability dropped: mpirun refuses root without --allow-run-as-root and the image offers
            # no other user (infra/gpu/burn_in.py).
            run_as=0,
            evidence=("NVIDIA GPU Operator v26.3.3 deployments/gpu-operator/values.yaml: the DCGM tag beside dcgm-exporter 4.5.3-4.8.2",),
        ),
        ImageRecord(
            key="python",
            # The burn-in's nccl-tests are no longer AWS's public image (CUDA 12.8, NCCL 2.27.7): the kit builds them on the
            # serving image itself (core/derived_images.py), so burn-in tests its stack.
            # The capacity-block reconciler (infra/gpu/capacity_block_reconciler.py): a Python standard library, nothing else.
            # newest patch of 3.12 as of 2026-12-05: 3.12.14 (docker-library/official-images library/python:
            # 3.12.14-slim-bookworm, 2026-08-13); notes read 3.12.13..3.12.14 (Misc/NEWS.d): security only; http.client now
            # stops after 100 trailer or 1xx lines
            reference="docker.io/library/python:3.12.14-slim-bookworm",
            user="root (no USER); Debian's nobody, uid 65534, exists",
            # nobody: the kit's small programs (burn-in verdict, capacity-block reconciler, CRD fetch) need no account.
            run_as=65534,
            evidence=("docker-library/official-images library/python: 3.12.14-slim-bookworm, Debian 12 with CPython 3.12.14",),
        ),
        ImageRecord(
            key="redis",
            # The gateway's rate-limit counters (Envoy AI Gateway v1.1.0's token rate-limit example runs 8.2.4-alpine3.22,
            # this minor).
            # newest patch of 8.2 as of 2026-12-05: 8.2.9 (official-images library/redis: 8.2.9-alpine3.22, 2026-08-18); notes
            # read 8.2.5..8.2.9: security fixes (CVE-2026-23479 unblock-client use-after-free, 8.2.8 and 8.2.9 security
            # releases); nothing in INCRBY/EXPIRE, which the rate limiter sends
            reference="docker.io/library/redis:8.2.9-alpine3.22",
            user="root, stepping down to redis (uid 999, gid 1000) in its entrypoint",
            run_as=999,
            evidence=("docker-library/redis alpine Dockerfile: addgroup -S -g 1000 redis; adduser -S -G redis -u 999 redis",),
        ),
        ImageRecord(
            key="fluent-bit",
            # The gateway's audit log shipper (infra/routing/audit.py): the aws-for-fluent-bit release that aws/eks-charts'
            # chart 0.2.0 (AUDIT_LOG_SHIPPER) runs, Fluent Bit v4.2.2, which takes EKS Pod Identity credentials.
            # newest patch of 3.2 as of 2026-12-05: 3.2.1 (aws/aws-for-fluent-bit release 20260127, PR 1069; no later 3.2
            # release found); notes read 3.2.0..3.2.1: publishing fixes only (the "3" tag, SSM parameters)
            reference="public.ecr.aws/aws-observability/aws-for-fluent-bit:3.2.1",
            user="root",
            # Root with every capability dropped: container log files are root's, mode 0640 (infra/routing/audit.py).
            run_as=0,
            evidence=("aws/eks-charts aws-for-fluent-bit 0.2.0: appVersion 3.2.1 (Fluent Bit v4.2.2)",),
        ),
        ImageRecord(
            key="ray-llm",
            # Ray Serve LLM with its vLLM (blueprints/ray_serve): ray-project/ray builds ray-llm for Python 3.12 and CUDA 13.0
            # only since 2026 (docker/ray-llm/Dockerfile refuses any other Python; PRs 61496, 61497), so no py311-cu12x tag.
            # newest patch of 2.60 as of 2026-12-05: 2.60.0 (PyPI ray); notes read 2.60.0..2.60.0: already the newest patch
            reference="docker.io/rayproject/ray-llm:2.60.0-py312-cu130",
            # Ray itself. Not relied on: runai-model-streamer (vLLM's `runai` extra; ray[llm] asks for vllm[audio] only),
            # aws-ofi-nccl and libfabric (no EFA installer in docker/ray-llm or docker/base-deps): unknown, so absent.
            provides=frozenset({"ray"}),
            # KubeRay writes the Ray container's command (`ray start ... --block`); the image's own is never run.
            entrypoint=(),
            user="ray (uid 1000, gid 100), HOME /home/ray; passwordless sudo, which allowPrivilegeEscalation: false disables",
            run_as=1000,
            vllm="0.29.0",
            evidence=(
                "ray 2.60.0 wheel METADATA: Requires-Dist vllm[audio]==0.29.0; extra == 'llm' (no runai extra, no boto3 in the "
                "llm extra); ray-project/ray docker/ray-llm/Dockerfile installs python/deplocks/llm/rayllm_py312_cu130.lock and "
                "exits on any Python but 3.12, CUDA 13.0 (so the host driver must be R580 or later)",
                "ray-project/ray docker/base-deps/Dockerfile: useradd ray --uid 1000 --gid 100, USER 1000, HOME /home/ray, "
                "sudoers NOPASSWD; requirements.in installs boto3 and smart_open[s3] (Ray Serve LLM's S3 download uses boto3); "
                "wget is installed (KubeRay's worker readiness probe runs it)",
                "vllm 0.29.0 wheel: kv_offloading_size keeps the CPU tier in /dev/shm/vllm_offload_<engine>.mmap "
                "(v1/kv_offload/cpu/shared_offload_region.py), as 0.30.0 does",
            ),
            # CUDA 13, torch, vLLM with DeepEP and DeepGEMM, Ray.
            size_gb=13.0,
            size_basis="estimate: a public deployment guide puts ray-llm at about 11 GB; CUDA 13, torch, vLLM with DeepEP and DeepGEMM",
        ),
    )
}
