"""The demo shop: built from the real Online Retail order lines, or a small synthetic shop without them.

`python manage.py load_demo` drives it: `source` parses the file, `synthetic` makes rows in the same
shape, `loader` writes them (idempotently), `accounts` sets up the known demo logins and API key.
"""
