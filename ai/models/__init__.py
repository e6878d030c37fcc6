from .events import Event, EventType
from .registry import ModelVersion, TrainingRun

__all__ = ["Event", "EventType", "ModelVersion", "TrainingRun"]
