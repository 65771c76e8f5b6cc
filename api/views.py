"""The API's index, and the page where a user makes and revokes personal API tokens (docs/api.md)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from projects import audit, permissions
from projects.audit import Actor

from . import errors, tokens
from .models import ApiToken
from .throttling import PublicRateThrottle


@extend_schema(exclude=True)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([PublicRateThrottle])
def index(request):
    return Response(
        {
            "versions": {"v1": request.build_absolute_uri("/api/v1/")},
            "schema": request.build_absolute_uri(reverse("api:schema")),
            "docs": request.build_absolute_uri(reverse("api:docs")),
        }
    )


@csrf_exempt  # it changes nothing, and a PATCH to no endpoint is a 404 like a GET
def no_endpoint(request, *args, **kwargs):
    return JsonResponse(errors.body("not_found", "没有这个接口。"), status=404)


class TokenForm(forms.Form):
    name = forms.CharField(label="用途", max_length=100, help_text="例如“企业内部系统对接”。")
    days = forms.TypedChoiceField(label="有效期", coerce=int, initial=90)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].choices = [
            (days, f"{days}天") for days in tokens.LIFETIMES_DAYS if days <= settings.API_TOKEN_MAX_DAYS
        ]


@never_cache  # the new key is in the page once: no copy in any cache
@login_required
def token_list(request):
    """The user's tokens (never their keys), the form for a new one; a new key is shown in this response only."""
    with audit.refusals_recorded(Actor.from_request(request), "api_token.create"):
        permissions.ensure_has_organisation(request.user)
    form = TokenForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, new_key = tokens.create_token(
                    actor=Actor.from_request(request),
                    name=form.cleaned_data["name"],
                    days=form.cleaned_data["days"],
                )
            except ValidationError as invalid:
                for message in invalid.messages:
                    form.add_error(None, message)
        if new_key is None:
            status = 400
        else:
            form = TokenForm()
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "new_key": new_key,
            "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id"),
        },
        status=status,
    )


@require_POST
@login_required
def token_revoke(request, token_id):
    token = tokens.revoke_token(actor=Actor.from_request(request), token_id=token_id)
    messages.success(request, f"已吊销令牌“{token.name}”（{token.prefix}…），使用它的调用将被拒绝。")
    return redirect("api_tokens:list")
