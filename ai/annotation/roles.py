"""The workbench's roles: one auth group each, with the permissions below (codename, model name).

Staff users in a group see in the admin only what these allow. The groups are made once, by ai's data
migration and again after any `flush` (Django's post_migrate, as for permissions); a group that already
exists is left as the shop's staff have shaped it.
"""
from __future__ import annotations

ROLES: dict[str, list[tuple[str, str]]] = {
    "annotator": [("view_labelset", "labelset"), ("annotate_labelset", "labelset"), ("view_item", "item")],
    "reviewer": [
        ("view_labelset", "labelset"), ("annotate_labelset", "labelset"), ("review_labelset", "labelset"),
        ("view_item", "item"), ("change_item", "item"), ("view_annotation", "annotation"),
    ],
    "manager": [
        ("view_labelset", "labelset"), ("add_labelset", "labelset"), ("change_labelset", "labelset"),
        ("delete_labelset", "labelset"), ("annotate_labelset", "labelset"), ("review_labelset", "labelset"),
        ("import_labelset", "labelset"), ("export_labelset", "labelset"), ("train_labelset", "labelset"),
        ("view_label", "label"), ("add_label", "label"), ("change_label", "label"), ("delete_label", "label"),
        ("view_item", "item"), ("add_item", "item"), ("change_item", "item"), ("delete_item", "item"),
        ("view_annotation", "annotation"), ("delete_annotation", "annotation"),
        ("view_trainingrun", "trainingrun"), ("view_modelversion", "modelversion"),
    ],
}


def create_missing_roles(group_model, permission_model, using: str = "default") -> None:
    """Make each role's group that does not exist yet, with its permissions.

    Takes the models as arguments so that the data migration can pass its historical ones."""
    for role, wanted in ROLES.items():
        group, created = group_model.objects.using(using).get_or_create(name=role)
        if not created:
            continue
        group.permissions.add(*(
            permission_model.objects.using(using).get(
                content_type__app_label="ai", content_type__model=model, codename=codename
            )
            for codename, model in wanted
        ))


def create_missing_roles_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate receiver (after the permissions exist): brings the groups back after a `flush`."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    create_permissions(sender, verbosity=0, using=using)  # in case auth's receiver has not run yet
    create_missing_roles(Group, Permission, using=using)
