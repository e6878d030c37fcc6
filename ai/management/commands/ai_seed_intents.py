"""`manage.py ai_seed_intents [--file CSV] [--oos-file CSV] [--oos-limit N] [--train]`

Seeds the support chat's intents label set (AI_CHAT_INTENTS_LABEL_SET) from an intents file
(`text,label,split`; by default AI_CHAT_SEED_INTENTS_FILE, Bitext's 27 e-commerce intents) and, as
examples of what the shop's support does not cover, the `oos` rows of a second file (by default CLINC150's
out-of-scope queries next to it). Labels become gold labels of the "import" annotator; running it again
adds nothing twice. A missing file is skipped with a message (exit 0), so `make demo` works without the
shared data. `--train` then trains the `chat_intent` kind (waiting for it).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ai.chat.defaults import INTENT_LABELS
from ai.chat.intent_model import OOS
from ai.conf import ai_settings

OOS_DESCRIPTION = "Out of scope: anything the shop's support does not handle (the bot hands these off)."


def read_rows(path: Path, *, only_label: str | None = None) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = {"text", "label"} - set(reader.fieldnames or [])
    if missing:
        raise CommandError(f"{path}: needs the columns text,label[,split]; missing {', '.join(sorted(missing))}")
    rows = [{"text": r["text"], "label": r["label"], "split": r.get("split") or ""} for r in reader]
    return [r for r in rows if only_label is None or r["label"] == only_label]


def limit_oos(rows: list[dict[str, str]], limit: int) -> list[dict[str, str]]:
    """Every train/val out-of-scope row, then test rows, up to `limit` in all."""
    ordered = [r for r in rows if r["split"] != "test"] + [r for r in rows if r["split"] == "test"]
    return ordered[:limit]


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["text", "label", "split"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


class Command(BaseCommand):
    help = "Seed the support chat's intents label set from an intents CSV (text,label,split)."

    def add_arguments(self, parser):
        parser.add_argument("--file", help="intents CSV (default: AI_CHAT_SEED_INTENTS_FILE)")
        parser.add_argument("--oos-file", help="a CSV whose `oos` rows are added as out-of-scope examples "
                            "(default: clinc150.csv beside --file; 'none' to skip)")
        parser.add_argument("--oos-limit", type=int, default=400, help="at most this many out-of-scope rows (default 400)")
        parser.add_argument("--train", action="store_true", help="then train the chat_intent kind and wait for it")

    def handle(self, *args, **options):
        path = Path(options["file"] or ai_settings.CHAT_SEED_INTENTS_FILE)
        if not path.is_file():
            self.stdout.write(f"Intents file {path} not found: nothing seeded (the chat hands every message to staff "
                              "until its intent model is trained).")
            return
        rows = read_rows(path)
        if not rows:
            raise CommandError(f"{path}: no rows")
        oos_path = options["oos_file"] or str(path.with_name("clinc150.csv"))
        oos_rows = []
        if oos_path != "none":
            if Path(oos_path).is_file():
                oos_rows = limit_oos(read_rows(Path(oos_path), only_label=OOS), max(0, options["oos_limit"]))
            else:
                self.stdout.write(f"Out-of-scope file {oos_path} not found: seeding without out-of-scope examples.")
        result = self.seed(rows + oos_rows)
        self.stdout.write(
            f"Seeded {result.created} items ({len(oos_rows)} out-of-scope rows offered) into the label set "
            f"{ai_settings.CHAT_INTENTS_LABEL_SET!r}; {result.duplicates} already there."
        )
        if options["train"]:
            call_command("ai_train", "chat_intent", "--wait", stdout=self.stdout, stderr=self.stderr)

    @transaction.atomic
    def seed(self, rows: list[dict[str, str]]):
        from ai.annotation.importing import ImportFailed, import_items
        from ai.chat.labelling import chat_label_set
        from ai.models import Label

        label_set = chat_label_set()
        existing = set(Label.objects.filter(label_set=label_set).values_list("name", flat=True))
        position = Label.objects.filter(label_set=label_set).count()
        new_labels = []
        for name in dict.fromkeys(r["label"] for r in rows):
            if name and name not in existing:
                description = OOS_DESCRIPTION if name == OOS else INTENT_LABELS.get(name, "")
                new_labels.append(Label(label_set=label_set, name=name, description=description, position=position))
                position += 1
        Label.objects.bulk_create(new_labels)
        try:
            return import_items(label_set, to_csv(rows), "csv", source="seed")
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
