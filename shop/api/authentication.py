"""`Authorization: Bearer <key>` authentication with per-merchant API keys.

On success `request.auth` is the ApiKey (with its merchant loaded) and `request.user` is anonymous:
an API key acts for a merchant, not for a person. Staff use their session instead (SessionAuthentication,
with CSRF), and then `request.auth` is None.
"""
from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from shop.models import ApiKey
from shop.services import api_keys


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request) -> tuple[AnonymousUser, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Authorization header: send `Bearer <key>`.", code="invalid_key")
        try:
            raw_key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid API key.", code="invalid_key") from None
        if len(raw_key) > 200:
            raise AuthenticationFailed("Invalid API key.", code="invalid_key")
        api_key = api_keys.find_active_key(raw_key)
        if api_key is None:
            raise AuthenticationFailed("Invalid or revoked API key.", code="invalid_key")
        api_keys.touch(api_key)
        return AnonymousUser(), api_key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
