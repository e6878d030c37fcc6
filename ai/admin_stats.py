"""Admin page "Recommendation performance": per placement and model version, impressions, clicks,
click-through rate, attributed orders and revenue, with charts over days (server-rendered SVG).

It is a plain admin view (no model behind it): its URL is added to the admin site's URLs and an entry
is listed under the AI app on the admin index. Imported from ai/admin.py.
"""
from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .charts import line_chart_svg
from .recs.placements import PLACEMENTS
from .recs.stats import performance

URL_NAME = "ai_recommendation_performance"
PERIODS = (7, 30, 90)
PERMISSION = "ai.view_event"  # the page is built from the recorded events


def _ctr_percent(arm, day) -> float | None:
    """The arm's click-through rate that day in percent; None (a gap) without impressions."""
    figures = arm.daily.get(day)
    return figures.ctr_percent if figures is not None else None


def recommendation_performance_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied(f"The recommendation performance page needs the permission {PERMISSION}.")
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    if days not in PERIODS:
        days = 30
    report = performance(days=days)
    sections = []
    for placement in report.placements():
        arms = report.for_placement(placement)
        ctr_series = [(arm.label, [(day, _ctr_percent(arm, day)) for day in report.days]) for arm in arms]
        revenue_series = [
            (arm.label, [(day, float(arm.daily[day].revenue) if day in arm.daily else 0.0) for day in report.days])
            for arm in arms
        ]
        sections.append(
            {
                "placement": placement,
                "title": PLACEMENTS[placement].title if placement in PLACEMENTS else placement,
                "arms": arms,
                "ctr_chart": line_chart_svg(ctr_series, title="Click-through rate per day (%)", y_label="CTR %", y_min=0),
                "revenue_chart": line_chart_svg(
                    revenue_series, title="Attributed revenue per day", y_label="revenue", y_min=0
                ),
            }
        )
    context = {
        **admin.site.each_context(request),
        "title": "Recommendation performance",
        "report": report,
        "sections": sections,
        "days": days,
        "periods": PERIODS,
    }
    return TemplateResponse(request, "admin/ai/recommendation_performance.html", context)


def _install(site: admin.AdminSite) -> None:
    """Add the page's URL to the admin site and an entry for it under the AI app on the index."""
    get_urls = site.get_urls
    get_app_list = site.get_app_list

    def urls():
        view = site.admin_view(recommendation_performance_view)
        return [path("ai/recommendation-performance/", view, name=URL_NAME), *get_urls()]

    def app_list(request, app_label=None):
        apps = get_app_list(request, app_label)
        if request.user.is_staff and request.user.has_perm(PERMISSION):
            for app in apps:
                if app["app_label"] == "ai":
                    app["models"].append(
                        {
                            "name": "Recommendation performance",
                            "object_name": "RecommendationPerformance",
                            "admin_url": reverse(f"{site.name}:{URL_NAME}"),
                            "add_url": None,
                            "view_only": True,
                            "perms": {"view": True},
                        }
                    )
        return apps

    # Wrapping the site's own methods (the documented alternative, a custom AdminSite, is the host's choice).
    site.get_urls = urls  # type: ignore[method-assign]
    site.get_app_list = app_list  # type: ignore[method-assign]


_install(admin.site)
