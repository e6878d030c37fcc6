"""OpenAPI generation: every operation documents the error body for each error status it can answer."""
from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from shop.api.serializers import ApiErrorSerializer

ERROR_DESCRIPTIONS = {
    400: "Invalid input: malformed JSON, wrong types, unknown fields, values out of range.",
    401: "No API key, or an invalid or revoked one (see the WWW-Authenticate header).",
    403: "The key's scope (or the user) is not allowed to do this.",
    404: "No such object for this merchant, or an invalid page.",
    409: "Conflicts with the current state (stock below zero, forbidden order transition, in use).",
    413: "The request body is too large.",
    415: "The request body is not JSON.",
    422: "The Idempotency-Key was already used with a different request.",
    429: "Too many requests for this key: retry after Retry-After seconds.",
}
ALWAYS = (400, 401, 403, 404, 429)
WRITES = (409, 413, 415)

RETRY_AFTER = OpenApiParameter(
    "Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[429], description="Seconds to wait."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Send a unique key to make a retry of this request safe: a repeat with the same key and "
    "body returns the first response (with `Idempotent-Replayed: true`) and creates nothing.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200, 201],
    description="`true` when this response is the stored answer to an earlier request with the same key.",
)


def error_response(status_code: int) -> OpenApiResponse:
    return OpenApiResponse(ApiErrorSerializer, description=ERROR_DESCRIPTIONS.get(status_code, "Error."))


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = list(ALWAYS)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += WRITES
        if self.method == "POST":
            codes.append(422)
        for code in codes:
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(error_response(code), str(code), None, direction)
        return responses

    def get_override_parameters(self) -> list:
        return [*super().get_override_parameters(), RETRY_AFTER]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "shop.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")
        scheme["description"] = "A merchant API key: `Authorization: Bearer ak_…` (create_api_key command or admin)."
        return scheme
