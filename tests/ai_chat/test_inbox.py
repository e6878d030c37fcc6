"""The staff inbox in the admin: order, live view, reply/note/assign/resolve, and who may do what."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from ai.chat import services
from ai.models import AnswerTemplate, CannedResponse, Conversation, InternalNote, Message
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = Conversation.Status


def conversation(status: str, text: str = "hello", **fields) -> Conversation:
    conv = Conversation.objects.create(status=status, **fields)
    Message.objects.create(conversation=conv, sender="shopper", text=text, intent="track_order", confidence=0.42,
                           delivery="delivered")
    return conv


def staff_with(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="ai", codename__in=codenames))
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def admin_client_():
    client = Client()
    user = StaffFactory()
    client.force_login(user)
    client.user = user
    return client


def test_waiting_first_then_staff_then_bot_then_resolved(admin_client_, django_assert_max_num_queries):
    resolved = conversation(Status.RESOLVED)
    bot = conversation(Status.BOT)
    waiting = conversation(Status.WAITING)
    staff = conversation(Status.STAFF)
    for _ in range(3):
        conversation(Status.BOT)
    response = admin_client_.get("/admin/ai/conversation/")
    assert response.status_code == 200
    ids = [c.pk for c in response.context["cl"].result_list]
    assert ids[:2] == [waiting.pk, staff.pk]
    assert ids[-1] == resolved.pk and bot.pk in ids[2:-1]
    with django_assert_max_num_queries(15):
        admin_client_.get("/admin/ai/conversation/")


def test_live_view_shows_intent_confidence_and_escapes_text(admin_client_):
    conv = conversation(Status.WAITING, text="<script>alert(1)</script>")
    response = admin_client_.get(f"/admin/ai/conversation/{conv.pk}/change/")
    html = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "track_order" in html and "0.420" in html
    assert Message.objects.get(conversation=conv).delivery == "read"  # the shopper sees "Read"


def test_reply_note_assign_resolve(admin_client_):
    conv = conversation(Status.WAITING)
    CannedResponse.objects.create(title="Thanks", text="Thanks for waiting!")
    base = f"/admin/ai/conversation/{conv.pk}"
    assert "Thanks for waiting!" in admin_client_.get(f"{base}/change/").content.decode()
    assert admin_client_.post(f"{base}/assign/").status_code == 302
    conv.refresh_from_db()
    assert (conv.status, conv.assigned_to) == (Status.STAFF, admin_client_.user)
    admin_client_.post(f"{base}/reply/", {"text": "Hello, I can help."})
    reply = Message.objects.get(conversation=conv, sender="agent")
    assert (reply.text, reply.author, reply.delivery) == ("Hello, I can help.", admin_client_.user, "sent")
    admin_client_.post(f"{base}/note/", {"text": "Customer is upset"})
    assert InternalNote.objects.get(conversation=conv).text == "Customer is upset"
    admin_client_.post(f"{base}/resolve/")
    conv.refresh_from_db()
    assert conv.status == Status.RESOLVED and conv.resolved_at is not None
    poll = admin_client_.get(f"{base}/poll/?after=0").json()
    assert [m["sender"] for m in poll["messages"]] == ["shopper", "agent"]
    assert poll["messages"][0]["intent"] == "track_order" and poll["messages"][0]["confidence"] == 0.42


def test_an_empty_or_long_reply_is_refused_with_a_message(admin_client_):
    conv = conversation(Status.WAITING)
    response = admin_client_.post(f"/admin/ai/conversation/{conv.pk}/reply/", {"text": "x" * 1001}, follow=True)
    assert "Messages can be at most 1000 characters long" in response.content.decode()
    assert not Message.objects.filter(sender="agent").exists()


@pytest.mark.parametrize("action", ["reply", "note", "assign", "resolve"])
def test_only_staff_with_the_inbox_permission_act(action):
    conv = conversation(Status.WAITING)
    _, viewer = staff_with("view_conversation")
    assert viewer.get(f"/admin/ai/conversation/{conv.pk}/change/").status_code == 200
    assert viewer.post(f"/admin/ai/conversation/{conv.pk}/{action}/", {"text": "hi"}).status_code == 403
    _, nobody = staff_with()
    assert nobody.get(f"/admin/ai/conversation/{conv.pk}/change/").status_code == 403
    assert nobody.get(f"/admin/ai/conversation/{conv.pk}/poll/").status_code == 403
    conv.refresh_from_db()
    assert conv.status == Status.WAITING and not Message.objects.filter(sender="agent").exists()
    assert not InternalNote.objects.exists()
    _, replier = staff_with("view_conversation", "reply_conversation")
    assert replier.post(f"/admin/ai/conversation/{conv.pk}/{action}/", {"text": "hi"}).status_code == 302


def test_staff_with_the_permission_count_as_online():
    assert services.staff_online() is False
    _, viewer = staff_with("view_conversation")
    viewer.get("/admin/ai/conversation/")
    assert services.staff_online() is False
    _, replier = staff_with("view_conversation", "reply_conversation")
    replier.get("/admin/ai/conversation/")
    assert services.staff_online() is True


def test_answer_templates_preview_and_placeholder_check(admin_client_):
    response = admin_client_.post("/admin/ai/answertemplate/add/", {"intent": "track_order", "text": "Order $order_nr", "active": "on"})
    assert "Unknown placeholder $order_nr" in response.content.decode()
    response = admin_client_.post("/admin/ai/answertemplate/add/", {"intent": "track_order", "text": "Order $order_number is $status.", "active": "on"})
    assert response.status_code == 302
    template = AnswerTemplate.objects.get()
    page = admin_client_.get(f"/admin/ai/answertemplate/{template.pk}/change/").content.decode()
    assert "Order AI-261201-7K3F9Q is shipped." in page
