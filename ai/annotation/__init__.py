"""The annotation workbench's domain logic (Django models in ai.models.annotation).

Other `ai` code adds items with `ai.annotation.services.add_items(label_set, texts, source=...)`.
"""
