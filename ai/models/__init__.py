from .annotation import Annotation, AnnotatorProgress, Item, Label, LabelSet, Skip
from .chat import (
    AnswerTemplate,
    CannedResponse,
    Conversation,
    FaqEntry,
    InternalNote,
    Message,
    PolicyText,
    SatisfactionRating,
)
from .events import Event, EventType
from .registry import ModelVersion, TrainingRun

__all__ = ["Annotation", "AnnotatorProgress", "Event", "EventType", "Item", "Label", "LabelSet", "ModelVersion", "Skip", "TrainingRun"]
__all__ += [
    "AnswerTemplate", "CannedResponse", "Conversation", "FaqEntry", "InternalNote", "Message", "PolicyText",
    "SatisfactionRating",
]
