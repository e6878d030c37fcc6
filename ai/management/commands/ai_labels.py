"""`manage.py ai_labels export SET --format csv|jsonl [--all] [--output FILE]` and `ai_labels import SET FILE`.

SET is the label set's slug. Export writes the gold labels (or, with --all, every annotation) to stdout
or --output; import reads the same formats (all-or-nothing, per-row errors), the format from the name
or --format. `ai_labels score SET` writes the live model's suggestions on the set's items now.
"""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ai.annotation.exporting import EmptyExport, export_labels
from ai.annotation.importing import ImportFailed, guess_format, import_items
from ai.models import LabelSet


class Command(BaseCommand):
    help = "Export or import a label set's labels (CSV or JSONL)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="action", parser_class=type(parser))
        export = actions.add_parser("export", help="export gold labels or all annotations")
        export.add_argument("label_set", help="the label set's slug")
        export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        export.add_argument("--all", action="store_true", help="every annotation instead of the gold labels")
        export.add_argument("--output", help="file to write (default: stdout)")
        load = actions.add_parser("import", help="import items and labels from a CSV or JSONL file")
        load.add_argument("label_set", help="the label set's slug")
        load.add_argument("file", help="CSV or JSONL file")
        load.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file name")
        score = actions.add_parser("score", help="write the live model's suggestions on the set's items")
        score.add_argument("label_set", help="the label set's slug")

    def handle(self, *args, **options):
        try:
            label_set = LabelSet.objects.get(slug=options["label_set"])
        except LabelSet.DoesNotExist:
            known = ", ".join(LabelSet.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No label set {options['label_set']!r} (known: {known})") from None
        action = options["action"]
        if action == "export":
            return self.export(label_set, options)
        if action == "import":
            return self.load(label_set, options)
        from ai.annotation.scoring import score_label_set

        self.stdout.write(f"Scored {score_label_set(label_set.pk)} item(s).")

    def export(self, label_set: LabelSet, options) -> None:
        try:
            text = export_labels(label_set, options["format"], all_annotations=options["all"])
        except EmptyExport as exc:
            raise CommandError(str(exc)) from None
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {options['output']}")
        else:
            self.stdout.write(text, ending="")

    def load(self, label_set: LabelSet, options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            fmt = options["format"] or guess_format(path.name)
            result = import_items(label_set, path.read_bytes(), fmt)
        except ImportFailed as exc:
            lines = [f"Nothing imported: {exc.total} problem(s)"] + [f"  {error}" for error in exc.errors]
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(
            f"Imported {result.created} item(s) ({result.labelled} with labels); skipped {result.duplicates} duplicate(s)."
        )
