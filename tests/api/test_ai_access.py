"""Who may do what with ai's API (issue 11, items 2-5; issue 12, the API boundary), as an attacker would try it:
personal recommendations, staff without permissions, events from merchant keys, shop-wide model control,
and ai's endpoints keeping their own authentication, permissions, throttles and error body under a host
whose DRF defaults are open."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from ai.models import Event, ModelVersion, TrainingRun
from ai.recs.data import build_interactions
from shop.models import ApiKey
from tests.api.conftest import keyed_client, make_order
from tests.factories import ProductFactory, UserFactory

RECS = "/api/v1/recommendations/"
EVENTS = "/api/v1/events/"
RUNS = "/api/v1/training-runs/"
MODELS = "/api/v1/models/"


def grant(client, **grants):
    ApiKey.objects.filter(pk=client.api_key.pk).update(**grants)
    return client


def staff_with(*perms: str) -> APIClient:
    user = UserFactory(is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def version(db):
    return ModelVersion.objects.create(kind="popularity", version=1, artifact_dir="ai-models/popularity/v1", checksums={})


@pytest.fixture
def run(db):
    return TrainingRun.objects.create(kind="popularity", status=TrainingRun.Status.RUNNING, worker="gpu0@host-7:4242",
                                      log_tail="attempt 1 on gpu0@host-7:4242")


# (c) The endpoints keep their own rules under a host whose defaults are open ------------------------
def ai_api_views() -> list[type]:
    resolver = get_resolver()
    views = []
    for pattern in resolver.url_patterns:
        for sub in getattr(pattern, "url_patterns", []):
            view = getattr(getattr(sub, "callback", None), "view_class", None)
            if view is not None and view.__module__.startswith("ai.") and issubclass(view, APIView):
                views.append(view)
    return views


def test_every_ai_api_view_declares_its_own_authentication_permissions_and_throttles():
    views = ai_api_views()
    assert len(views) >= 9
    for view in views:
        for attribute in ("authentication_classes", "permission_classes", "throttle_classes"):
            declared = next(klass.__dict__[attribute] for klass in view.__mro__ if attribute in klass.__dict__)
            assert declared is not APIView.__dict__[attribute], (view, attribute)
        if view.__module__.startswith("ai.api."):
            assert view().get_exception_handler().__module__ == "ai.api.base", view


@pytest.fixture
def open_host_defaults(settings):
    """A host shop with DRF's most permissive defaults and its own exception handler."""
    settings.REST_FRAMEWORK = {
        "DEFAULT_SCHEMA_CLASS": settings.REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"],
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
        "DEFAULT_THROTTLE_CLASSES": [],
        "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
        "DEFAULT_PAGINATION_CLASS": None,
    }


@pytest.mark.parametrize(
    "method, path",
    [("get", RECS + "?placement=home&user=1"), ("get", RUNS), ("post", RUNS), ("get", MODELS), ("post", EVENTS),
     ("post", MODELS + "rollback/")],
)
def test_under_open_host_defaults_strangers_still_get_ais_401(db, open_host_defaults, method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_the_schema_documents_ais_error_body(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    forbidden = schema["paths"]["/api/v1/recommendations/"]["get"]["responses"]["403"]
    assert forbidden["content"]["application/json"]["schema"]["$ref"].endswith("/AiError")
    assert set(schema["components"]["schemas"]["AiErrorDetail"]["properties"]) == {"code", "message", "fields"}


# Item 2: personal recommendations only for the entitled ----------------------------------------------
PERSONAL_REFUSED = "Personal recommendations (user= or visitor=) are only for the shopper's own session"


@pytest.mark.parametrize("query", ["user={user}", "visitor=v-1", "user={user}&visitor=v-1"])
def test_an_ordinary_key_is_refused_personal_lists_and_gets_non_personal_ones(merchant, query):
    shopper = UserFactory()
    client = keyed_client(merchant, ApiKey.Scope.AI)
    refused = client.get(f"{RECS}?placement=home&{query.format(user=shopper.pk)}")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"].startswith(PERSONAL_REFUSED)
    assert client.get(f"{RECS}?placement=home").status_code == 200


def test_a_key_staff_trusted_as_storefront_backend_gets_personal_lists(merchant):
    shopper = UserFactory()
    client = grant(keyed_client(merchant, ApiKey.Scope.READ), trusted_storefront=True)
    assert client.get(f"{RECS}?placement=home&user={shopper.pk}").status_code == 200


def test_a_shopper_gets_their_own_list_and_no_one_elses(db):
    me, other = UserFactory(), UserFactory()
    client = APIClient()
    client.force_login(me)
    assert client.get(f"{RECS}?placement=home&user={me.pk}").status_code == 200
    refused = client.get(f"{RECS}?placement=home&user={other.pk}")
    assert refused.status_code == 403 and refused.json()["error"]["message"].startswith(PERSONAL_REFUSED)
    assert client.get(f"{RECS}?placement=home&visitor=someone-elses-visitor-id").status_code == 403


@pytest.mark.parametrize("perms, status", [((), 403), (("ai.view_trainingrun",), 403), (("ai.view_event",), 200)])
def test_staff_need_the_view_event_permission_for_personal_lists(db, perms, status):
    shopper = UserFactory()
    assert staff_with(*perms).get(f"{RECS}?placement=home&user={shopper.pk}").status_code == status


# Item 3: staff are subject to model permissions over the API -----------------------------------------
OPERATIONS = {
    "list runs": ("get", RUNS, "ai.view_trainingrun"),
    "run detail": ("get", RUNS + "{run}/", "ai.view_trainingrun"),
    "start run": ("post", RUNS, "ai.add_trainingrun"),
    "cancel run": ("post", RUNS + "{run}/cancel/", "ai.change_trainingrun"),
    "list models": ("get", MODELS, "ai.view_modelversion"),
    "model detail": ("get", MODELS + "{version}/", "ai.view_modelversion"),
    "promote": ("post", MODELS + "{version}/promote/", "ai.change_modelversion"),
    "roll back": ("post", MODELS + "rollback/", "ai.change_modelversion"),
    "send events": ("post", EVENTS, "ai.add_event"),
}
PERMISSIONS = sorted({perm for _, _, perm in OPERATIONS.values()})
BODIES = {"start run": {"kind": "popularity"}, "roll back": {"kind": "popularity"},
          "send events": {"events": [{"event_type": "view", "visitor_id": "v-1"}]}}


def call(client, name: str, run, version):
    method, path, _ = OPERATIONS[name]
    return getattr(client, method)(path.format(run=run.pk, version=version.pk), BODIES.get(name, {}), format="json")


@pytest.mark.parametrize("held", [None, *PERMISSIONS])
def test_staff_may_do_exactly_what_their_single_permission_allows(run, version, held, django_capture_on_commit_callbacks):
    client = staff_with(*([held] if held else []))
    for name, (_, _, needed) in OPERATIONS.items():
        with django_capture_on_commit_callbacks(execute=False):
            response = call(client, name, run, version)
        if needed == held:
            assert response.status_code != 403, (name, response.content)
        else:
            assert response.status_code == 403, (name, held, response.status_code)
            assert response.json()["error"]["message"] == f"Your account lacks the permission {needed}."


# Item 5: shop-wide model control only with the staff grant; bounded options; no infrastructure shown ----
@pytest.mark.parametrize("name", ["start run", "cancel run", "promote", "roll back"])
def test_an_ai_scope_key_cannot_control_shop_wide_models(merchant, run, version, name):
    response = call(keyed_client(merchant, ApiKey.Scope.AI), name, run, version)
    assert response.status_code == 403
    assert "'models:control' scope, which only staff grant" in response.json()["error"]["message"]
    run.refresh_from_db()
    version.refresh_from_db()
    assert (run.status, run.cancel_requested, version.status) == ("running", False, "candidate")
    assert TrainingRun.objects.count() == 1


def test_a_key_granted_model_control_may_start_runs_with_bounded_options(merchant, django_capture_on_commit_callbacks):
    client = grant(keyed_client(merchant, ApiKey.Scope.AI), ai_model_control=True)
    huge = client.post(RUNS, {"kind": "sasrec", "options": {"epochs": 10**9}}, format="json")
    assert huge.status_code == 400
    assert huge.json()["error"]["fields"]["options"] == ["Option 'epochs' must be between 1 and 500, not 1e+09"]
    forever = client.post(RUNS, {"kind": "sasrec", "options": {"max_seconds": "inf"}}, format="json")
    assert forever.status_code == 400 and "finite" in forever.json()["error"]["message"]
    assert not TrainingRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(RUNS, {"kind": "sasrec", "options": {"epochs": 3}}, format="json").status_code == 202


def test_api_clients_never_see_worker_hosts_logs_or_storage_paths(merchant, run, version):
    client = keyed_client(merchant, ApiKey.Scope.AI)
    body = client.get(f"{RUNS}{run.pk}/").json()
    listed = client.get(RUNS).json()["results"][0]
    model = client.get(f"{MODELS}{version.pk}/").json()
    assert not {"worker", "log_tail"} & (set(body) | set(listed))
    assert "artifact_dir" not in model
    assert "host-7" not in str(body) + str(listed) and "ai-models/" not in str(model)
    staff = staff_with("ai.view_trainingrun", "ai.view_modelversion")
    assert staff.get(f"{RUNS}{run.pk}/").json()["worker"] == "gpu0@host-7:4242"
    assert staff.get(f"{MODELS}{version.pk}/").json()["artifact_dir"] == "ai-models/popularity/v1"


# Item 4: events from merchant keys ----------------------------------------------------------------
def test_a_key_sends_events_only_for_its_products_and_its_customers(merchant, other_merchant, product):
    ours_customer, stranger = UserFactory(), UserFactory()
    order = make_order([(product, 1)])
    order.user = ours_customer
    order.save(update_fields=["user"])
    rival_product = ProductFactory(merchant=other_merchant)
    client = keyed_client(merchant, ApiKey.Scope.WRITE)
    missing_user, missing_product = 10**9, 10**9
    events = [
        {"event_type": "purchase", "user_id": ours_customer.pk, "product_id": product.pk},  # fine
        {"event_type": "purchase", "visitor_id": "v-1", "product_id": rival_product.pk},
        {"event_type": "purchase", "visitor_id": "v-1", "product_id": missing_product},
        {"event_type": "view", "user_id": stranger.pk, "product_id": product.pk},
        {"event_type": "view", "user_id": missing_user, "product_id": product.pk},
    ]
    response = client.post(EVENTS, {"events": events}, format="json")
    assert response.status_code == 400
    rows = response.json()["error"]["fields"]["events"]
    # The same words whether the id exists elsewhere or not at all: nothing to enumerate.
    assert rows == {
        "1": {"product_id": [f"Not a product of yours: {rival_product.pk}."]},
        "2": {"product_id": [f"Not a product of yours: {missing_product}."]},
        "3": {"user_id": [f"Not a customer of yours: {stranger.pk}."]},
        "4": {"user_id": [f"Not a customer of yours: {missing_user}."]},
    }
    assert not Event.objects.exists()


def test_api_sent_events_record_their_key_and_stay_out_of_shop_wide_learning(merchant, product, settings):
    client = keyed_client(merchant, ApiKey.Scope.WRITE)
    response = client.post(EVENTS, {"events": [{"event_type": "purchase", "visitor_id": "v-1", "product_id": product.pk}]},
                           format="json")
    assert response.status_code == 201, response.content
    event = Event.objects.get()
    assert (event.source, event.shop_wide) == (f"key:{client.api_key.prefix}", False)
    assert len(build_interactions().items) == 0  # not in popularity, co-occurrence, training
    Event.objects.all().delete()

    grant(client, events_shop_wide=True)
    client.post(EVENTS, {"events": [{"event_type": "purchase", "visitor_id": "v-1", "product_id": product.pk}]}, format="json")
    assert Event.objects.get().shop_wide is True
    assert len(build_interactions().items) == 1


def test_staff_may_let_every_clients_events_count_shop_wide(merchant, product, settings):
    settings.AI_API_EVENTS_IN_POPULARITY = True
    client = keyed_client(merchant, ApiKey.Scope.WRITE)
    client.post(EVENTS, {"events": [{"event_type": "view", "visitor_id": "v-1", "product_id": product.pk}]}, format="json")
    assert Event.objects.get().shop_wide is True
