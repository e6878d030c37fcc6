"""The workbench in the admin: roles, the labelling endpoints, review, import/export/train views, the report."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ai.annotation.services import add_items
from ai.models import Annotation, Item, ModelVersion
from ai.textclf.evaluation import evaluation_report
from tests.factories import StaffFactory, UserFactory

from .conftest import make_label_set

pytestmark = pytest.mark.django_db


def staff_in(role: str, username: str | None = None):
    user = UserFactory(username=username or role, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def url(name, label_set, *extra):
    return reverse(f"admin:ai_labelset_{name}", args=[label_set.pk, *extra])


ROLE_ACCESS = {
    # role: (label page, review page, import page, export, train)
    "annotator": (200, 403, 403, 403, 403),
    "reviewer": (200, 200, 403, 403, 403),
    "manager": (200, 200, 200, 302, 302),
}


@pytest.mark.parametrize("role", list(ROLE_ACCESS))
def test_each_role_reaches_only_its_pages(label_set, client_as, role):
    client = client_as(staff_in(role))
    label_page, review, import_page, export, train = ROLE_ACCESS[role]
    assert client.get(url("label", label_set)).status_code == label_page
    assert client.get(url("review", label_set)).status_code == review
    assert client.get(url("import", label_set)).status_code == import_page
    assert client.get(url("export", label_set) + "?format=csv").status_code == export  # 302: empty set, message
    assert client.post(url("train", label_set)).status_code == train
    changelist = client.get(reverse("admin:ai_labelset_changelist"))
    assert changelist.status_code == 200
    assert (reverse("admin:ai_labelset_add") in changelist.content.decode()) == (role == "manager")


def test_staff_without_a_role_get_nothing(label_set, client_as):
    client = client_as(UserFactory(username="plain", is_staff=True))
    assert client.get(url("label", label_set)).status_code == 403
    assert client.get(url("next", label_set)).status_code == 403
    assert client.get(reverse("admin:ai_labelset_changelist")).status_code == 403


def test_label_page_has_no_inline_script_or_style(label_set, client_as):
    body = client_as(staff_in("annotator")).get(url("label", label_set)).content.decode()
    assert 'src="/static/ai/labelling.js"' in body
    inline_scripts = [tag for tag in re.findall(r"<script[^>]*>", body) if "src=" not in tag and "application/json" not in tag]
    assert inline_scripts == [] and " style=" not in body and "<style" not in body
    assert 'id="ai-labels" type="application/json"' in body


def test_labelling_endpoints_flow(label_set, client_as):
    add_items(label_set, ["first", "second", "third"], source="test")
    client = client_as(staff_in("annotator", "ann"))
    order = label_set.labels.get(name="order").pk
    data = client.get(url("next", label_set)).json()
    assert data["item"]["text"] == "first" and data["progress"] == {"total": 3, "done": 0, "remaining": 3, "mine": 0}
    data = client.post(url("annotate", label_set), {"item": data["item"]["id"], "labels": [order]}, content_type="application/json").json()
    assert data["item"]["text"] == "second" and data["progress"]["done"] == 1 and data["progress"]["mine"] == 1
    data = client.post(url("skip", label_set), {"item": data["item"]["id"]}, content_type="application/json").json()
    assert data["item"]["text"] == "third"
    data = client.post(url("undo", label_set), {}, content_type="application/json").json()
    assert data["item"]["text"] == "first" and data["item"]["mine"] == [] and data["progress"]["done"] == 0
    first = Item.objects.get(text="first")
    assert client.get(url("item", label_set, first.pk)).json()["item"]["text"] == "first"
    bad = client.post(url("annotate", label_set), {"item": first.pk, "labels": [999999]}, content_type="application/json")
    assert bad.status_code == 400 and bad.json() == {"error": "unknown label for this set"}
    assert client.post(url("annotate", label_set), "not json", content_type="application/json").json() == {"error": "the request body must be JSON"}
    assert client.post(url("undo", label_set), {}, content_type="application/json").json() == {"error": "nothing to undo"}
    other = make_label_set("Other")
    add_items(other, ["elsewhere"], source="test")
    foreign = Item.objects.get(text="elsewhere")
    assert client.get(url("item", label_set, foreign.pk)).status_code == 404
    assert client.post(url("annotate", label_set), {"item": foreign.pk, "labels": [order]}, content_type="application/json").status_code == 400
    assert not Annotation.objects.exists()


def test_next_item_runs_a_constant_number_of_queries(label_set, client_as):
    client = client_as(staff_in("annotator"))
    add_items(label_set, [f"text {i}" for i in range(5)], source="test")
    client.get(url("next", label_set))
    with CaptureQueriesContext(connection) as small:
        client.get(url("next", label_set))
    add_items(label_set, [f"more {i}" for i in range(200)], source="test")
    with CaptureQueriesContext(connection) as large:
        client.get(url("next", label_set))
    assert len(small) == len(large) == 13  # 15 before the progress counters


def test_review_page_resolves_a_disagreement(client_as):
    label_set = make_label_set("Pairs", overlap=2)
    add_items(label_set, ["disputed"], source="test")
    item = Item.objects.get()
    order, refund = (label_set.labels.get(name=n).pk for n in ("order", "refund"))
    from ai.annotation.labelling import annotate

    annotate(item.pk, UserFactory(username="ann"), [order])
    annotate(item.pk, UserFactory(username="bob"), [refund])
    client = client_as(staff_in("reviewer"))
    page = client.get(url("review", label_set)).content.decode()
    assert "ann: <strong>order</strong>" in page and "bob: <strong>refund</strong>" in page
    client.post(url("review", label_set), {"item": item.pk, "label": refund})
    item.refresh_from_db()
    assert (item.gold_label_id, item.gold_source, item.disagreement) == (refund, "review", False)


def test_import_page_shows_row_errors_and_stores_nothing(label_set, client_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_as(staff_in("manager"))
    upload = SimpleUploadedFile("items.csv", b"text,label\nok,order\n,refund\nfine,nope\n")
    page = client.post(url("import", label_set), {"file": upload}).content.decode()
    assert "Nothing was imported: 2 problem(s) in the file." in page
    assert "<td>3</td><td>text</td><td>text is empty</td>" in page
    assert not Item.objects.exists()
    good = SimpleUploadedFile("items.jsonl", b'{"text": "ok", "label": "order"}\n')
    assert client.post(url("import", label_set), {"file": good}).status_code == 302
    assert Item.objects.get().gold_label.name == "order"
    response = client.get(url("export", label_set) + "?format=csv")
    assert response["Content-Disposition"] == 'attachment; filename="intents-gold.csv"'
    assert response.content.decode() == "text,label,split\nok,order,\n"


def test_train_button_refuses_too_few_labels_with_a_message(label_set, client_as):
    client = client_as(staff_in("manager"))
    response = client.post(url("train", label_set), follow=True)
    assert "Not started: Intents: gold labels use 0 label(s)" in response.content.decode()


def test_hotkeys_must_be_unique_and_free(client_as):
    client = client_as(StaffFactory())
    data = {
        "name": "Set", "slug": "set", "task": "single", "overlap": 1, "uncertainty": "margin", "source": "", "guidelines": "",
        "labels-TOTAL_FORMS": 3, "labels-INITIAL_FORMS": 0, "labels-MIN_NUM_FORMS": 0, "labels-MAX_NUM_FORMS": 1000,
        "labels-0-name": "a", "labels-0-hotkey": "x", "labels-0-position": 0,
        "labels-1-name": "b", "labels-1-hotkey": "X", "labels-1-position": 1,
        "labels-2-name": "c", "labels-2-hotkey": "s", "labels-2-position": 2,
    }
    page = client.post(reverse("admin:ai_labelset_add"), data).content.decode()
    assert "The hotkey &#x27;X&#x27; is used twice in this set." in page
    assert "&#x27;s&#x27; is taken by the labelling page" in page
    from ai.models import LabelSet

    assert not LabelSet.objects.exists()


def test_model_version_page_shows_the_evaluation_report(client_as):
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    report = evaluation_report([0, 1, 1, 1], proba, ["yes", "no"])
    version = ModelVersion.objects.create(kind="text_classifier:x", version=1, artifact_dir="x", report={"label_sets": {"x": report}})
    page = client_as(StaffFactory()).get(reverse("admin:ai_modelversion_change", args=[version.pk])).content.decode()
    assert 'aria-label="confusion matrix"' in page and "ROC, one vs. rest" in page
    assert "<tr><td>no</td><td>1.000</td><td>0.667</td><td>0.800</td><td>3</td>" in page
    json.dumps(report)  # stored as JSON


def test_item_search_and_filters(label_set, client_as):
    from ai.annotation.labelling import annotate

    add_items(label_set, ["where is my parcel", "refund please", "hello"], source="test")
    order, refund = (label_set.labels.get(name=n).pk for n in ("order", "refund"))
    ann = UserFactory(username="ann")
    parcel, money, hello = (Item.objects.get(text=t) for t in ("where is my parcel", "refund please", "hello"))
    annotate(parcel.pk, ann, [order])
    annotate(money.pk, ann, [refund])
    Item.objects.filter(pk=parcel.pk).update(suggestion=refund)  # the model disagrees with ann here
    Item.objects.filter(pk=money.pk).update(suggestion=refund)
    client = client_as(StaffFactory())
    changelist = reverse("admin:ai_item_changelist")

    def texts(query: str) -> set[str]:
        response = client.get(changelist + query)
        assert response.status_code == 200
        return {item.text for item in response.context["cl"].result_list}

    assert texts("?q=parcel") == {"where is my parcel"}
    assert texts(f"?annotator={ann.pk}") == {"where is my parcel", "refund please"}
    assert texts(f"?label={refund}") == {"refund please"}
    assert texts("?model=disagrees") == {"where is my parcel"}
    assert texts("?model=agrees") == {"refund please"}
    assert texts("?complete__exact=0") == {"hello"}
