"""Recommendation algorithms (Django-free) and the serving layer that blends them."""
