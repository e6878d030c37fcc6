from .annotation import Annotation, Item, Label, LabelSet, Skip
from .events import Event, EventType
from .registry import ModelVersion, TrainingRun

__all__ = ["Annotation", "Event", "EventType", "Item", "Label", "LabelSet", "ModelVersion", "Skip", "TrainingRun"]
