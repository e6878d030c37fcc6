from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    """`?page=N&page_size=M` (M up to 500); the default size is REST_FRAMEWORK["PAGE_SIZE"]."""

    page_size_query_param = "page_size"
    max_page_size = 500
