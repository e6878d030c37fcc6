"""`GET /api/v1/recommendations/`: recommendation lists for headless shops.

The same call as the template tag (`ai.recs.service.recommend`). A headless shop shows the items and
reports impressions and clicks back through `POST /api/v1/events/` with the list's `placement`,
`model_version_id` and `list_id`, so that the figures per placement and version include them.
"""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..conf import ai_settings
from ..recs.page import api_add_shown, api_shown
from ..recs.placements import PLACEMENTS
from ..recs.service import MAX_LIMIT, RecommendationError, recommend
from . import scopes
from .base import AiApiMixin, AiErrorSerializer, client_of, is_staff_session
from .permissions import CanReadRecommendations


class RecommendationQuerySerializer(serializers.Serializer):
    placement = serializers.ChoiceField(choices=sorted(PLACEMENTS), help_text="Where the list is shown.")
    user = serializers.IntegerField(required=False, min_value=1, help_text="The signed-in customer's id.")
    visitor = serializers.CharField(
        required=False, max_length=64, help_text="The anonymous shopper's id (as sent with their events)."
    )
    product = serializers.IntegerField(
        required=False, min_value=1, help_text="The product being viewed (needed by the product_* placements)."
    )
    basket = serializers.CharField(
        required=False, allow_blank=True, max_length=2000,
        help_text="Comma-separated product ids in the shopper's basket (or of the order just placed).",
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_LIMIT, help_text=f"1 to {MAX_LIMIT}; default AI_DEFAULT_LIMIT."
    )
    exclude = serializers.CharField(
        required=False, allow_blank=True, max_length=2000,
        help_text="Comma-separated product ids the page already shows: never recommended.",
    )
    page = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,64}$", required=False,
        help_text="An id of the page being built: lists asked for under one page id never repeat a product.",
    )

    def validate_exclude(self, value: str) -> list[int]:
        return self.validate_basket(value)

    def validate_basket(self, value: str) -> list[int]:
        ids = []
        for part in filter(None, (p.strip() for p in value.split(","))):
            if not part.isdigit() or int(part) < 1:
                raise serializers.ValidationError(f"{part!r} is not a product id.")
            ids.append(int(part))
        if len(ids) > 200:
            raise serializers.ValidationError("At most 200 products.")
        return ids

    def validate(self, attrs):
        placement = PLACEMENTS[attrs["placement"]]
        if placement.needs_product and "product" not in attrs:
            raise ValidationError({"product": [f"The {placement.code} placement needs a product."]})
        return attrs


class ReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["bought", "viewed", "in_basket", "popular_in", "popular"])
    text = serializers.CharField()
    product_id = serializers.IntegerField(allow_null=True, help_text="The product of the history or basket it names.")


class RecommendedProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    category_id = serializers.IntegerField(allow_null=True)
    category_name = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    url = serializers.CharField()
    image_url = serializers.CharField()
    reason = serializers.SerializerMethodField(help_text="Why it is recommended (personal placements), or null.")

    @extend_schema_field(ReasonSerializer(allow_null=True))
    def get_reason(self, product) -> dict | None:
        explanation = self.context.get("reasons", {}).get(product.id)
        return explanation.as_dict() if explanation is not None else None


class RecommendationListSerializer(serializers.Serializer):
    placement = serializers.CharField()
    title = serializers.CharField()
    list_id = serializers.CharField(help_text="Send it back with the impression and click events.")
    model_version_id = serializers.IntegerField(
        allow_null=True, help_text="The version of the main model (null: popularity without a trained model)."
    )
    items = RecommendedProductSerializer(many=True)


PERSONAL_PERMISSION = "ai.view_event"  # a shopper's personal list reveals what they did
PERSONAL_REFUSED = (
    "Personal recommendations (user= or visitor=) are only for the shopper's own session, staff with the "
    f"permission {PERSONAL_PERMISSION}, or an API client trusted as a storefront backend (a grant only staff "
    "give). Leave out user and visitor for non-personal recommendations."
)


def may_see_personal(request, user_id: int | None, visitor_id: str | None) -> bool:
    """Whether the caller is entitled to this shopper's personal list."""
    client = client_of(request)
    if client is not None:
        return scopes.RECOMMENDATIONS_PERSONAL in client.scopes
    if is_staff_session(request) and request.user.has_perm(PERSONAL_PERMISSION):
        return True
    user = request.user
    own_visitor = getattr(request._request, "visitor_id", None)
    return (
        user.is_authenticated
        and (user_id is None or user_id == user.pk)
        and (visitor_id is None or (own_visitor is not None and visitor_id == own_visitor))
    )


class RecommendationsView(AiApiMixin, APIView):
    """Who may ask: an API client with the `recommendations` scope, staff, or a signed-in shopper. Whose
    personal list: see `may_see_personal` (anyone else gets 403 for user=/visitor=, and non-personal lists
    without them)."""

    permission_classes = [CanReadRecommendations]

    @extend_schema(
        operation_id="recommendations_list",
        summary="Recommendations for a placement",
        description=(
            "Blends the placement's models (personal history, co-purchases, content similarity), applies the "
            "business rules (only active in-stock products, not the viewed product, nothing in the basket, "
            "bought products only in repeat-purchase categories, at most AI_MAX_PER_CATEGORY per category) "
            "and answers popular products when there is nothing personal to go on."
        ),
        parameters=[
            OpenApiParameter("placement", OpenApiTypes.STR, required=True, enum=sorted(PLACEMENTS)),
            OpenApiParameter("user", OpenApiTypes.INT, description="Customer id."),
            OpenApiParameter("visitor", OpenApiTypes.STR, description="Anonymous visitor id."),
            OpenApiParameter("product", OpenApiTypes.INT, description="Viewed product (product_* placements)."),
            OpenApiParameter("basket", OpenApiTypes.STR, description="Comma-separated product ids."),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {MAX_LIMIT}."),
            OpenApiParameter("exclude", OpenApiTypes.STR, description="Comma-separated product ids already on the page."),
            OpenApiParameter(
                "page", OpenApiTypes.STR,
                description="Page id (letters, digits, - and _): no product twice across the lists of one page.",
            ),
        ],
        responses={
            200: RecommendationListSerializer,
            400: OpenApiResponse(AiErrorSerializer, description="Bad query parameters (the error body names the fields)."),
            401: OpenApiResponse(AiErrorSerializer, description="No credentials."),
            403: OpenApiResponse(
                AiErrorSerializer,
                description="No recommendations scope; or a personal list (user=, visitor=) asked by a caller not "
                "entitled to it (only the shopper's own session, staff with ai.view_event, or an API client "
                "trusted as a storefront backend).",
            ),
            404: OpenApiResponse(AiErrorSerializer, description="Unknown product."),
            429: OpenApiResponse(AiErrorSerializer, description="Throttled."),
        },
        examples=[
            OpenApiExample(
                "Customers also bought",
                value={
                    "placement": "product_also_bought",
                    "title": "Customers also bought",
                    "list_id": "3f0c2b0c9b8d4c8e9a4f1d2e3c4b5a69",
                    "model_version_id": 12,
                    "items": [
                        {
                            "id": 42, "title": "Jumbo bag red retrospot", "category_id": 3,
                            "category_name": "Bags", "price": "2.08", "url": "/products/42/jumbo-bag-red-retrospot/",
                            "image_url": "",
                            "reason": {"code": "bought", "text": "Because you bought Lunch bag red retrospot",
                                       "product_id": 17},
                        }
                    ],
                },
                response_only=True,
            )
        ],
        tags=["recommendations"],
    )
    def get(self, request):
        query = RecommendationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        user_id, visitor_id = params.get("user"), params.get("visitor") or None
        if (user_id is not None or visitor_id is not None) and not may_see_personal(request, user_id, visitor_id):
            raise PermissionDenied(PERSONAL_REFUSED)
        product_id = params.get("product")
        if product_id is not None and not ai_settings.adapter().get_products([product_id], request=request._request):
            raise NotFound(f"No product with id {product_id}.")
        page = params.get("page")
        caller = _caller(request)
        exclude = list(params.get("exclude", [])) + (api_shown(caller, page) if page else [])
        try:
            recs = recommend(
                placement=params["placement"],
                user_id=user_id,
                visitor_id=visitor_id,
                product_id=product_id,
                basket_product_ids=params.get("basket", []),
                limit=params.get("limit"),
                exclude=exclude,
                request=request._request,
            )
        except RecommendationError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from None
        if page:
            api_add_shown(caller, page, (item.id for item in recs.items))
        return Response(RecommendationListSerializer(recs, context={"reasons": recs.reasons}).data)


def _caller(request) -> str:
    """Whose page ids these are: the API key, else the signed-in user (pages of two callers never mix)."""
    key = getattr(request.auth, "pk", None)
    if key is not None:
        return f"key:{key}"
    return f"user:{getattr(request.user, 'pk', None)}"
