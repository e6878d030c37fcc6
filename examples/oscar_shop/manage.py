#!/usr/bin/env python
"""The example django-oscar shop with Aisle's `ai` app installed (see README.md)."""
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # `ai` comes from the repository root two folders up (a real shop would `pip install` it).
    sys.path.insert(1, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oscar_shop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
