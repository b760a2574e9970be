"""The shapes of the Kubernetes objects the blueprints write, as TypedDicts for the type checker.

Each class is named after its Kubernetes API type (core/v1, apps/v1, batch/v1 and policy/v1 at Kubernetes 1.35) and
uses the API's field names, so a misspelt field or a value of the wrong type is an error before anything is rendered.
Only the fields the kit writes are declared: a field the API has but the kit never sets is left out rather than
guessed. Where the API makes a field optional the class is total=False, with the required fields marked Required
(ResourceRequirements, whose two fields the kit always writes, is the one class stricter than the API).

The custom resources' specs (LeaderWorkerSet, DynamoGraphDeployment, RayService) follow the same rule, named after
the Go types of their operators at the pinned versions (core/versions.py).

These are plain dicts at run time: nothing here is imported by cdk8s, and typing them changes no output.
"""

from __future__ import annotations

from typing import Literal, Required, TypedDict

# --- core/v1: containers -----------------------------------------------------------------------------------------


class ObjectFieldSelector(TypedDict):
    fieldPath: str


class SecretKeySelector(TypedDict):
    name: str
    key: str


class EnvVarSource(TypedDict, total=False):
    fieldRef: ObjectFieldSelector
    secretKeyRef: SecretKeySelector


class EnvVar(TypedDict, total=False):
    name: Required[str]
    value: str
    valueFrom: EnvVarSource


class ContainerPort(TypedDict, total=False):
    containerPort: Required[int]
    name: str
    protocol: Literal["TCP", "UDP", "SCTP"]


class VolumeMount(TypedDict, total=False):
    name: Required[str]
    mountPath: Required[str]
    readOnly: bool
    subPath: str


ResourceList = dict[str, str]
"""Quantities by resource name (cpu, memory, nvidia.com/gpu, vpc.amazonaws.com/efa), as strings."""


class ResourceRequirements(TypedDict):
    """Both optional in the API; the kit always writes both (requests equal limits for extended resources)."""

    requests: ResourceList
    limits: ResourceList


class HTTPGetAction(TypedDict):
    path: str
    port: int | str
    """A number, or the name of one of the container's ports."""


class ExecAction(TypedDict):
    command: list[str]


class Probe(TypedDict, total=False):
    httpGet: HTTPGetAction
    exec: ExecAction
    periodSeconds: int
    timeoutSeconds: int
    failureThreshold: int


class SleepAction(TypedDict):
    seconds: int


class LifecycleHandler(TypedDict, total=False):
    sleep: SleepAction


class Lifecycle(TypedDict, total=False):
    preStop: LifecycleHandler


class Capabilities(TypedDict, total=False):
    drop: list[str]


class SeccompProfile(TypedDict):
    type: Literal["RuntimeDefault", "Localhost", "Unconfined"]


class SecurityContext(TypedDict, total=False):
    """A container's."""

    runAsNonRoot: bool
    runAsUser: int
    allowPrivilegeEscalation: bool
    readOnlyRootFilesystem: bool
    capabilities: Capabilities
    seccompProfile: SeccompProfile


class Container(TypedDict, total=False):
    name: Required[str]
    image: str
    command: list[str]
    args: list[str]
    ports: list[ContainerPort]
    env: list[EnvVar]
    resources: ResourceRequirements
    volumeMounts: list[VolumeMount]
    securityContext: SecurityContext
    lifecycle: Lifecycle
    startupProbe: Probe
    readinessProbe: Probe
    livenessProbe: Probe


class ContainerProbes(TypedDict):
    """A container's three probes, to spread into a Container."""

    startupProbe: Probe
    readinessProbe: Probe
    livenessProbe: Probe


# --- core/v1: volumes --------------------------------------------------------------------------------------------


class EmptyDirVolumeSource(TypedDict, total=False):
    medium: Literal["", "Memory"]
    sizeLimit: str


class PersistentVolumeClaimVolumeSource(TypedDict, total=False):
    claimName: Required[str]
    readOnly: bool


class KeyToPath(TypedDict):
    key: str
    path: str


class ConfigMapVolumeSource(TypedDict, total=False):
    name: Required[str]
    items: list[KeyToPath]


class Volume(TypedDict, total=False):
    """A pod's volume: its name and exactly one source."""

    name: Required[str]
    emptyDir: EmptyDirVolumeSource
    persistentVolumeClaim: PersistentVolumeClaimVolumeSource
    configMap: ConfigMapVolumeSource


# --- core/v1: scheduling -----------------------------------------------------------------------------------------


class Toleration(TypedDict, total=False):
    key: str
    operator: Literal["Exists", "Equal"]
    value: str
    effect: str
    """NoSchedule, PreferNoSchedule or NoExecute; a str, as the taints in core.labels are."""


class LabelSelector(TypedDict, total=False):
    matchLabels: dict[str, str]


class PodAffinityTerm(TypedDict, total=False):
    labelSelector: LabelSelector
    matchLabelKeys: list[str]
    topologyKey: Required[str]


class WeightedPodAffinityTerm(TypedDict):
    weight: int
    podAffinityTerm: PodAffinityTerm


class PodAffinity(TypedDict, total=False):
    """PodAffinity and PodAntiAffinity alike (the API's two types have the same fields)."""

    requiredDuringSchedulingIgnoredDuringExecution: list[PodAffinityTerm]
    preferredDuringSchedulingIgnoredDuringExecution: list[WeightedPodAffinityTerm]


class NodeSelectorRequirement(TypedDict):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[str]


class NodeSelectorTerm(TypedDict, total=False):
    matchExpressions: list[NodeSelectorRequirement]


class NodeSelector(TypedDict):
    nodeSelectorTerms: list[NodeSelectorTerm]


class NodeAffinity(TypedDict, total=False):
    requiredDuringSchedulingIgnoredDuringExecution: NodeSelector


class Affinity(TypedDict, total=False):
    nodeAffinity: NodeAffinity
    podAffinity: PodAffinity
    podAntiAffinity: PodAffinity


class PodScheduling(TypedDict, total=False):
    """The PodSpec fields that say where a pod runs, to spread into a PodSpec."""

    nodeSelector: dict[str, str]
    tolerations: list[Toleration]
    affinity: Affinity


# --- core/v1: pods -----------------------------------------------------------------------------------------------


class PodSecurityContext(TypedDict, total=False):
    runAsNonRoot: bool
    runAsUser: int
    fsGroup: int
    seccompProfile: SeccompProfile


class PodIdentityFields(TypedDict, total=False):
    """The PodSpec fields that say who a pod runs as, to spread into a PodSpec."""

    securityContext: PodSecurityContext
    automountServiceAccountToken: bool


class PodSpec(PodScheduling, PodIdentityFields, total=False):
    """containers is required by the API, but not marked Required here: a part of a pod spec (the fields an option
    adds) has this type too, and is spread into the whole."""

    containers: list[Container]
    initContainers: list[Container]
    volumes: list[Volume]
    serviceAccountName: str
    terminationGracePeriodSeconds: int
    restartPolicy: Literal["Always", "OnFailure", "Never"]


class ObjectMeta(TypedDict, total=False):
    """The metadata of a pod template (an object's own is written by cdk8s from api_object's arguments)."""

    labels: dict[str, str]
    annotations: dict[str, str]


class PodTemplateSpec(TypedDict, total=False):
    metadata: ObjectMeta
    spec: Required[PodSpec]


# --- core/v1 Service, apps/v1 Deployment, batch/v1 Job, policy/v1 PodDisruptionBudget -------------------------


class ServicePort(TypedDict, total=False):
    name: str
    port: Required[int]
    targetPort: int | str


class ServiceSpec(TypedDict):
    type: Literal["ClusterIP"]
    selector: dict[str, str]
    ports: list[ServicePort]


class RollingUpdateDeployment(TypedDict):
    maxSurge: int
    maxUnavailable: int


class DeploymentStrategy(TypedDict):
    type: Literal["RollingUpdate", "Recreate"]
    rollingUpdate: RollingUpdateDeployment


class DeploymentSpec(TypedDict, total=False):
    replicas: int
    selector: Required[LabelSelector]
    strategy: DeploymentStrategy
    template: Required[PodTemplateSpec]


class JobSpec(TypedDict, total=False):
    completionMode: Literal["NonIndexed", "Indexed"]
    completions: int
    parallelism: int
    backoffLimit: int
    backoffLimitPerIndex: int
    ttlSecondsAfterFinished: int
    template: Required[PodTemplateSpec]


class PodDisruptionBudgetSpec(TypedDict):
    maxUnavailable: int
    selector: LabelSelector


# --- leaderworkerset.x-k8s.io/v1 LeaderWorkerSet (kubernetes-sigs/lws api/leaderworkerset/v1) ---------------------


class LeaderWorkerTemplate(TypedDict):
    size: int
    restartPolicy: Literal["RecreateGroupOnPodRestart", "None"]
    leaderTemplate: PodTemplateSpec
    workerTemplate: PodTemplateSpec


class LeaderWorkerSetSpec(TypedDict, total=False):
    replicas: int
    startupPolicy: Literal["LeaderCreated", "LeaderReady"]
    leaderWorkerTemplate: Required[LeaderWorkerTemplate]


# --- nvidia.com/v1beta1 DynamoGraphDeployment (ai-dynamo/dynamo deploy/operator/api) -----------------------------


class DynamoComponent(TypedDict, total=False):
    """One entry of spec.components: a frontend or a vLLM worker role."""

    name: Required[str]
    type: Required[str]
    replicas: int
    sharedMemorySize: str
    podTemplate: PodTemplateSpec


class DynamoGraphDeploymentSpec(TypedDict):
    backendFramework: Literal["vllm", "sglang", "trtllm"]
    components: list[DynamoComponent]


# --- ray.io/v1 RayService (ray-project/kuberay ray-operator/apis/ray/v1) --------------------------------------------


class HeadGroupSpec(TypedDict):
    rayStartParams: dict[str, str]
    template: PodTemplateSpec


class WorkerGroupSpec(TypedDict, total=False):
    groupName: Required[str]
    replicas: int
    minReplicas: int
    maxReplicas: int
    idleTimeoutSeconds: int
    rayStartParams: dict[str, str]
    template: Required[PodTemplateSpec]
    priority: int


class AutoscalerOptions(TypedDict, total=False):
    version: Literal["v1", "v2"]
    idleTimeoutSeconds: int
    upscalingMode: Literal["Default", "Aggressive", "Conservative"]
    resources: ResourceRequirements
    securityContext: SecurityContext


class RayClusterSpec(TypedDict, total=False):
    rayVersion: str
    enableInTreeAutoscaling: bool
    autoscalerOptions: AutoscalerOptions
    headGroupSpec: Required[HeadGroupSpec]
    workerGroupSpecs: list[WorkerGroupSpec]


class RayServiceSpec(TypedDict):
    serveConfigV2: str
    rayClusterConfig: RayClusterSpec
