"""The annotation workbench: label sets, their labels, the items staff label, and the annotations.

An item is *complete* once it has as many human annotations as its set's overlap (or a gold label
from an import or a reviewer); complete items leave the labelling queue. `gold_labels` is what the
`text_classifier` kind learns from.
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

MAX_TEXT_CHARS = 10_000


class LabelSet(models.Model):
    class Task(models.TextChoices):
        SINGLE = "single", "Single-label classification"
        MULTI = "multi", "Multi-label classification"

    class Uncertainty(models.TextChoices):
        LEAST_CONFIDENT = "least_confident", "Least confident"
        MARGIN = "margin", "Smallest margin"
        ENTROPY = "entropy", "Highest entropy"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=48, unique=True, help_text="Used by ai_labels and the model registry.")
    task = models.CharField(max_length=8, choices=Task.choices, default=Task.SINGLE)
    guidelines = models.TextField(blank=True, help_text="Markdown, shown beside each item.")
    overlap = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="How many annotators label each item.",
    )
    source = models.CharField(max_length=200, blank=True, help_text="Where the items come from (free text).")
    uncertainty = models.CharField(
        max_length=16,
        choices=Uncertainty.choices,
        default=Uncertainty.LEAST_CONFIDENT,
        help_text="How the live model's uncertainty orders the queue.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The ModelVersion whose suggestions the items carry (None: not scored by any model yet).
    scored_version_id = models.BigIntegerField(null=True, blank=True)
    # Progress counters, changed with F() in the transactions that add items or complete them
    # (ai.annotation.counters), so that the labelling page never counts the set's items.
    item_count = models.PositiveIntegerField(default=0, editable=False)
    complete_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("annotate_labelset", "Can label items of label sets"),
            ("review_labelset", "Can review disagreements and set gold labels"),
            ("import_labelset", "Can import items and labels"),
            ("export_labelset", "Can export labels"),
            ("train_labelset", "Can train models on label sets"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def model_key(self) -> str:
        """The registry name of this set's `text_classifier` versions."""
        return f"text_classifier:{self.slug}"


class Label(models.Model):
    label_set = models.ForeignKey(LabelSet, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    hotkey = models.CharField(max_length=1, blank=True, help_text="One key; 1-9 are given by position anyway.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["label_set", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["label_set", "name"], name="label_unique_name_per_set"),
            models.UniqueConstraint(
                fields=["label_set", "hotkey"], condition=~models.Q(hotkey=""), name="label_unique_hotkey_per_set"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    class Split(models.TextChoices):
        NONE = "", "—"
        TRAIN = "train", "train"
        VAL = "val", "val"
        TEST = "test", "test"

    class GoldSource(models.TextChoices):
        NONE = "", "—"
        IMPORT = "import", "Imported"
        AGREEMENT = "agreement", "Annotators agreed"
        REVIEW = "review", "Reviewer"

    label_set = models.ForeignKey(LabelSet, on_delete=models.CASCADE, related_name="items")
    text = models.TextField()
    text_hash = models.CharField(max_length=64, help_text="sha256 of the text: one item per text per set")
    metadata = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=32, blank=True, help_text="import, shop, chat, …")
    source_ref = models.CharField(max_length=200, blank=True, help_text="Where it came from, e.g. product:12")
    split = models.CharField(max_length=5, choices=Split.choices, default=Split.NONE, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Queue state, kept up to date by ai.annotation.services.
    annotation_count = models.PositiveIntegerField(default=0, help_text="human annotators who labelled it")
    complete = models.BooleanField(default=False)
    disagreement = models.BooleanField(default=False)
    gold_labels = models.JSONField(default=list, blank=True, help_text="label ids")
    gold_label = models.ForeignKey(
        Label, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="single-label gold"
    )
    gold_source = models.CharField(max_length=16, choices=GoldSource.choices, default=GoldSource.NONE, blank=True)
    # The live model's suggestion and uncertainty (higher: more uncertain), written by a scoring pass.
    suggestion = models.ForeignKey(Label, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    suggestion_score = models.FloatField(null=True, blank=True)
    uncertainty = models.FloatField(default=0.0, help_text="0 until the live model has scored the item")
    scored_version = models.PositiveIntegerField(null=True, blank=True)
    # A short reservation so that two annotators never get the same item at once.
    leased_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["label_set", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["label_set", "text_hash"], name="item_unique_text_per_set"),
        ]
        indexes = [
            models.Index(fields=["label_set", "complete", "created_at", "id"], name="item_queue_oldest"),
            models.Index(
                fields=["label_set", "complete", "-uncertainty", "created_at", "id"], name="item_queue_uncertain"
            ),
            models.Index(fields=["label_set", "disagreement"], name="item_disagreement"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class Annotation(models.Model):
    """One label given to an item by one annotator (a multi-label choice is several rows)."""

    class Origin(models.TextChoices):
        HUMAN = "human", "Annotator"
        IMPORT = "import", "Import"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotations")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="ai_annotations"
    )
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.HUMAN)
    accepted_suggestion = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["item", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "annotator", "label"],
                condition=models.Q(annotator__isnull=False),
                name="annotation_unique_per_annotator_label",
            ),
        ]
        indexes = [models.Index(fields=["annotator", "created_at"], name="annotation_by_annotator")]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.label_id} by {self.annotator_id or self.origin}"


class Skip(models.Model):
    """An item an annotator skipped: it leaves their queue (others still get it)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="skips")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "annotator"], name="skip_unique_per_annotator")]


class AnnotatorProgress(models.Model):
    """How many items of a set one annotator has labelled (the labelling page's own count), kept by
    ai.annotation.counters in the transaction that stores or undoes their annotation."""

    label_set = models.ForeignKey(LabelSet, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    items = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["label_set", "annotator"], name="annotator_progress_unique"),
        ]
