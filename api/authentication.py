"""How an API call says who it is (docs/api.md, "Authentication"): a personal token in the Authorization header, or
the browser's session with its CSRF token (DRF's SessionAuthentication enforces CSRF on unsafe methods)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from projects.client_address import client_ip

from . import tokens


class TokenFailed(exceptions.AuthenticationFailed):
    """401 with the refusal's own stable code (token_expired, token_revoked, authentication_failed)."""

    def __init__(self, refusal: tokens.TokenRefused):
        super().__init__(str(refusal), code=refusal.code)


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>` (or `Token <key>`): acts as the token's user, with exactly its permissions."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower().decode("latin-1") not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization 头格式应为“Bearer 令牌”。")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(tokens.UNKNOWN) from None
        if len(key) > 100:
            raise exceptions.AuthenticationFailed(tokens.UNKNOWN)
        try:
            return tokens.user_of_key(key, client_ip(request))
        except tokens.TokenRefused as refusal:
            raise TokenFailed(refusal) from None

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = PersonalTokenAuthentication
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "个人接口令牌：登录后在“接口令牌”页面创建（只显示一次）。",
        }
