"""Who a server runs as: the image's own non-root user, with a writable HOME for its caches.

Every pod the kit writes meets the restricted Pod Security Standard: a non-root UID, no privilege escalation, no
capabilities, the runtime's default seccomp profile. Caches (the Hub's, vLLM's and torch's compile caches, CUDA's)
go under HOME, an emptyDir where the image's own HOME is missing or belongs to root.
"""

from __future__ import annotations

from dataclasses import dataclass

from blueprints.common.k8s_types import EnvVar, PodIdentityFields, PodSecurityContext, SecurityContext, Volume, VolumeMount
from core.images import image

HOME_VOLUME = "home"
# The Hub cache for images whose HOME the kit does not provide (their own HOME holds files of theirs).
SHARED_HF_HOME = "/cache/huggingface"


@dataclass(frozen=True)
class ServerIdentity:
    user: int
    home: str | None

    @property
    def hf_home(self) -> str:
        return f"{self.home}/.cache/huggingface" if self.home else SHARED_HF_HOME

    def security_context(self) -> SecurityContext:
        return {
            "runAsNonRoot": True,
            "runAsUser": self.user,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }

    def pod_security_context(self) -> PodSecurityContext:
        """Pod-level defaults for every container."""
        return {"runAsNonRoot": True, "runAsUser": self.user, "seccompProfile": {"type": "RuntimeDefault"}}

    def pod_fields(self, *, api_access: bool = False) -> PodIdentityFields:
        """Pod-level defaults for every container, and no Kubernetes API token unless the server calls the API
        (Pod Identity mounts its own token, so AWS credentials do not need it)."""
        fields: PodIdentityFields = {"securityContext": self.pod_security_context()}
        if not api_access:
            fields["automountServiceAccountToken"] = False
        return fields

    def env(self) -> list[EnvVar]:
        return [{"name": "HOME", "value": self.home}] if self.home else []

    def volumes(self) -> list[Volume]:
        return [{"name": HOME_VOLUME, "emptyDir": {}}] if self.home else []

    def mounts(self) -> list[VolumeMount]:
        return [{"name": HOME_VOLUME, "mountPath": self.home}] if self.home else []


def server_identity(image_key: str, run_as_user: int | None = None) -> ServerIdentity:
    """The pinned image's user and HOME; run_as_user replaces the user (a custom image's own)."""
    facts = image(image_key)
    return ServerIdentity(user=run_as_user or facts.run_as, home=facts.home)
