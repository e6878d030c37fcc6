"""Training runs and model versions over the API: start, watch, cancel, list, promote, roll back.

Thin views: the work is in ai.training and ai.registry. Authentication, throttling, pagination and the
error body are ai's own (ai/api/base.py); staff need the model permission, API clients the scope (reading:
`models:read`; starting, cancelling, promoting, rolling back: `models:control`, which only staff grant).
API clients never see where runs ran (worker host:pid, log) or where artifacts are stored.
"""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ai import registry
from ai.kinds import all_kinds, get_kind
from ai.models import ModelVersion, TrainingRun
from ai.training import cancel_run, start_run
from ai.training.services import RunConflict

from . import scopes
from .base import AiApiMixin, is_staff_session
from .base import AiErrorSerializer as ErrorSerializer
from .permissions import StaffPermissionOrScope

# Fields only staff see: where a run ran (worker host:pid, its log) and where artifacts are stored.
STAFF_ONLY_FIELDS = ("worker", "log_tail", "artifact_dir")


class HidesInfrastructure:
    """Serializer mixin: leaves STAFF_ONLY_FIELDS out unless the request is a staff session."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not is_staff_session(request):
            for name in STAFF_ONLY_FIELDS:
                data.pop(name, None)
        return data


def filter_by(queryset, request, names: tuple[str, ...]):
    """`?kind=…&status=…` equality filters."""
    for name in names:
        value = request.query_params.get(name)
        if value:
            queryset = queryset.filter(**{name: value})
    return queryset


RUNS_READ = ("ai.view_trainingrun", scopes.MODELS_READ)
RUNS_CONTROL = ("ai.change_trainingrun", scopes.MODELS_CONTROL)
VERSIONS_READ = ("ai.view_modelversion", scopes.MODELS_READ)
VERSIONS_CONTROL = ("ai.change_modelversion", scopes.MODELS_CONTROL)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state of the resource."


# Serializers ------------------------------------------------------------------------------------
class TrainingRunSerializer(HidesInfrastructure, serializers.ModelSerializer):
    requested_by = serializers.SerializerMethodField()
    model_version = serializers.SerializerMethodField()
    duration_s = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = TrainingRun
        fields = [
            "id", "kind", "options", "status", "requested_by", "requested_via", "device", "worker", "attempts",
            "progress", "step", "total_steps", "epoch", "cancel_requested", "metrics", "loss_curve",
            "data_summary", "log_tail", "error", "status_detail", "created_at", "started_at", "finished_at", "heartbeat_at",
            "duration_s", "model_version",
        ]
        read_only_fields = fields

    def get_requested_by(self, run: TrainingRun) -> str | None:
        return run.requested_by.get_username() if run.requested_by is not None else None

    def get_model_version(self, run: TrainingRun) -> int | None:
        version = getattr(run, "model_version", None)
        return version.pk if version else None


class TrainingRunCreateSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=64, help_text="A registered model kind, e.g. popularity.")
    options = serializers.DictField(required=False, default=dict, help_text="The kind's options; unknown names are refused.")

    def validate_kind(self, value: str) -> str:
        try:
            get_kind(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs):
        try:
            attrs["options"] = get_kind(attrs["kind"]).clean_options(attrs.get("options") or {})
        except ValueError as exc:
            raise serializers.ValidationError({"options": [str(exc)]}) from None
        return attrs


class ModelVersionSerializer(HidesInfrastructure, serializers.ModelSerializer):
    training_run: serializers.PrimaryKeyRelatedField[TrainingRun] = serializers.PrimaryKeyRelatedField(read_only=True)
    primary_score = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id", "kind", "version", "status", "training_run", "artifact_dir", "checksums", "config", "metrics",
            "primary_metric", "primary_score", "created_at", "promoted_at", "retired_at", "load_error",
        ]
        read_only_fields = fields


class RollbackSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=64)

    def validate_kind(self, value: str) -> str:
        if value not in all_kinds():
            raise serializers.ValidationError(f"Unknown model kind {value!r}")
        return value


ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No credentials."),
    403: OpenApiResponse(ErrorSerializer, description="A staff member without the model permission, or an API client without the scope."),
    429: OpenApiResponse(ErrorSerializer, description="Throttled (AI_API_THROTTLE_RATE)."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such object.")}


# Views ------------------------------------------------------------------------------------------
@extend_schema_view(
    get=extend_schema(
        summary="List training runs",
        tags=["ai: training"],
        responses={200: TrainingRunSerializer(many=True), **ERRORS},
    ),
)
class TrainingRunListCreateView(AiApiMixin, generics.ListAPIView):
    permission_classes = [StaffPermissionOrScope]
    access = {"GET": RUNS_READ, "POST": ("ai.add_trainingrun", scopes.MODELS_CONTROL)}
    serializer_class = TrainingRunSerializer
    filter_backends: list = []

    def get_queryset(self):
        runs = TrainingRun.objects.select_related("requested_by", "model_version").order_by("-created_at", "-id")
        return filter_by(runs, self.request, ("kind", "status"))

    @extend_schema(
        summary="Start a training run",
        description="Validates the kind and its options, queues the run on the `gpu` queue and answers 202 with it; "
        "poll `GET /api/v1/training-runs/{id}/` for status and progress.",
        tags=["ai: training"],
        request=TrainingRunCreateSerializer,
        responses={
            202: TrainingRunSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Unknown kind or option, or an ill-typed option."),
            **ERRORS,
        },
        examples=[OpenApiExample("popularity", value={"kind": "popularity", "options": {"half_life_days": 14}}, request_only=True)],
    )
    def post(self, request):
        incoming = TrainingRunCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            run = start_run(
                incoming.validated_data["kind"], incoming.validated_data["options"], user=request.user, via="api"
            )
        except RunConflict as exc:
            raise Conflict(str(exc)) from None
        except ValueError as exc:
            raise ValidationError({"options": [str(exc)]}) from None
        return Response(TrainingRunSerializer(run, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    get=extend_schema(
        summary="A training run: status, progress, metrics",
        tags=["ai: training"],
        responses={200: TrainingRunSerializer, **ERRORS, **NOT_FOUND},
    )
)
class TrainingRunDetailView(AiApiMixin, generics.RetrieveAPIView):
    permission_classes = [StaffPermissionOrScope]
    access = {"GET": RUNS_READ}
    serializer_class = TrainingRunSerializer
    queryset = TrainingRun.objects.select_related("requested_by", "model_version")


class TrainingRunCancelView(AiApiMixin, APIView):
    permission_classes = [StaffPermissionOrScope]
    access = {"POST": RUNS_CONTROL}

    @extend_schema(
        summary="Cancel a training run",
        description="A queued run is cancelled at once; a running one stops at its next step.",
        tags=["ai: training"],
        request=None,
        responses={
            202: TrainingRunSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The run has already finished."),
            **ERRORS,
            **NOT_FOUND,
        },
    )
    def post(self, request, pk: int):
        run = get_object_or_404(TrainingRun, pk=pk)
        if run.is_finished:
            raise Conflict(f"Run #{run.pk} has already finished ({run.status}).")
        run = cancel_run(run)
        return Response(TrainingRunSerializer(run, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    get=extend_schema(
        summary="List model versions",
        tags=["ai: models"],
        responses={200: ModelVersionSerializer(many=True), **ERRORS},
    )
)
class ModelVersionListView(AiApiMixin, generics.ListAPIView):
    permission_classes = [StaffPermissionOrScope]
    access = {"GET": VERSIONS_READ}
    serializer_class = ModelVersionSerializer
    filter_backends: list = []

    def get_queryset(self):
        return filter_by(ModelVersion.objects.order_by("kind", "-version"), self.request, ("kind", "status"))


@extend_schema_view(
    get=extend_schema(
        summary="A model version",
        tags=["ai: models"],
        responses={200: ModelVersionSerializer, **ERRORS, **NOT_FOUND},
    )
)
class ModelVersionDetailView(AiApiMixin, generics.RetrieveAPIView):
    permission_classes = [StaffPermissionOrScope]
    access = {"GET": VERSIONS_READ}
    serializer_class = ModelVersionSerializer
    queryset = ModelVersion.objects.all()


class ModelVersionPromoteView(AiApiMixin, APIView):
    permission_classes = [StaffPermissionOrScope]
    access = {"POST": VERSIONS_CONTROL}

    @extend_schema(
        summary="Promote a version to live",
        description="Verifies the artifact's sha256, makes the version live and retires the previous live one.",
        tags=["ai: models"],
        request=None,
        responses={
            200: ModelVersionSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The artifact is missing or corrupt."),
            **ERRORS,
            **NOT_FOUND,
        },
    )
    def post(self, request, pk: int):
        version = get_object_or_404(ModelVersion, pk=pk)
        try:
            version = registry.promote(version, user=request.user)
        except registry.RegistryError as exc:
            raise Conflict(str(exc)) from None
        return Response(ModelVersionSerializer(version, context={"request": request}).data)


class ModelRollbackView(AiApiMixin, APIView):
    permission_classes = [StaffPermissionOrScope]
    access = {"POST": VERSIONS_CONTROL}

    @extend_schema(
        summary="Roll a kind back to its previous live version",
        tags=["ai: models"],
        request=RollbackSerializer,
        responses={
            200: ModelVersionSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Unknown kind."),
            409: OpenApiResponse(ErrorSerializer, description="Nothing to roll back to."),
            **ERRORS,
        },
    )
    def post(self, request):
        incoming = RollbackSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            version = registry.rollback(incoming.validated_data["kind"], user=request.user)
        except registry.RegistryError as exc:
            raise Conflict(str(exc)) from None
        return Response(ModelVersionSerializer(version, context={"request": request}).data)
