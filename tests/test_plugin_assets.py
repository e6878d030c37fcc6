"""ai/ ships everything it renders or serves: templates under ai/templates/, static files under ai/static/ai/,
no inline scripts or styles, and no dependency on the host's templates, CSS classes or extra apps."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import get_template
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
AI_DIR = ROOT / "ai"
AI_TEMPLATES = AI_DIR / "templates"
TEMPLATE_NAME_RE = re.compile(r"""["']((?:admin/)?ai/[\w/.-]+\.html)["']""")
STATIC_RE = re.compile(r"""{%\s*static\s+['"]([^'"]+)['"]\s*%}""")


def ai_template_files() -> list[Path]:
    return sorted(AI_TEMPLATES.rglob("*.html"))


def test_every_template_ai_names_lives_under_ai_templates():
    named = {name for path in AI_DIR.rglob("*.py") for name in TEMPLATE_NAME_RE.findall(path.read_text(encoding="utf-8"))}
    named |= {name for path in ai_template_files() for name in TEMPLATE_NAME_RE.findall(path.read_text(encoding="utf-8"))}
    assert {"ai/recommendations.html", "ai/privacy.html", "admin/ai/recommendation_performance.html"} <= named
    missing = sorted(name for name in named if not (AI_TEMPLATES / name).is_file())
    assert missing == []


def test_every_static_file_ai_templates_link_is_ais_own():
    linked = {name for path in ai_template_files() for name in STATIC_RE.findall(path.read_text(encoding="utf-8"))}
    assert {"ai/beacon.js", "ai/ai.css", "ai/admin.css"} <= linked
    for name in linked:
        assert name.startswith("ai/"), name
        found = finders.find(name)
        assert found and Path(found).is_relative_to(AI_DIR / "static"), name


@pytest.mark.parametrize("path", ai_template_files(), ids=lambda p: str(p.relative_to(AI_TEMPLATES)))
def test_ai_templates_have_no_inline_script_or_style_and_need_no_extra_app(path):
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), "inline <script>"
    assert "<style" not in source and "style=" not in source
    assert "humanize" not in source
    # The shop's base template is the host's: ai's pages extend ai/base.html, which a host overrides.
    assert '{% extends "base.html" %}' not in source


@pytest.mark.django_db
def test_the_privacy_page_renders_in_a_host_without_any_templates_of_its_own(client, settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [], "OPTIONS": {
        "context_processors": [
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
            "django.contrib.messages.context_processors.messages",
        ]
    }}]
    origin = get_template("ai/base.html").origin.name
    assert Path(origin).is_relative_to(AI_TEMPLATES)
    response = client.get(reverse("ai:privacy"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Stop tracking this browser" in html
    assert "/static/ai/ai.css" in html


@pytest.mark.django_db
def test_aisle_wraps_ai_pages_in_its_own_layout(client):
    html = client.get(reverse("ai:privacy")).content.decode()
    assert "site-header" in html  # Aisle's templates/ai/base.html override extends the shop's base.html
    assert html.count("<html") == 1
