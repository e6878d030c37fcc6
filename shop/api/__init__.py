"""The merchant REST API under /api/v1/ (Django REST framework).

authentication.py  Bearer API keys (request.auth is the ApiKey)     permissions.py  scopes read < write < ai
views.py / urls.py  products, stock adjustments, categories, orders  serializers.py  strict input, output shapes
exceptions.py      the one error body and the EXCEPTION_HANDLER      middleware.py   JSON errors outside DRF, 413
idempotency.py     Idempotency-Key on POSTs                          throttling.py   per-key rate (API_THROTTLE_RATE)
filters.py         django-filter sets                                pagination.py   ?page=&page_size=
parsers.py         strict JSON parser                                schema.py       OpenAPI: error responses, auth
"""
