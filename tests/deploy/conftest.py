from tests.api.conftest import category, client_w, merchant, product  # noqa: F401  (the API fixtures)
