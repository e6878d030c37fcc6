from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from shop.models import IdempotencyRecord


def make_record(key: str, age_hours: float) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.create(
        key=key, method="POST", path="/api/v1/products/", request_hash="0" * 64, status_code=201, response_body={}
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(hours=age_hours))
    return record


@pytest.mark.django_db
def test_only_records_older_than_the_cutoff_are_deleted():
    make_record("old", 30)
    keep = make_record("recent", 2)
    out = StringIO()
    call_command("purge_idempotency_keys", "--older-than", "24", stdout=out)
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [keep.pk]
    assert "Deleted 1 idempotency record(s)" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5"])
def test_bad_ages_are_refused_and_nothing_is_deleted(value):
    make_record("old", 30)
    with pytest.raises(CommandError, match="--older-than"):
        call_command("purge_idempotency_keys", "--older-than", value)
    assert IdempotencyRecord.objects.count() == 1
