"""/api/v1/ the signed-in user and their personal API tokens."""

from ninja import Router, Status

from kehu.core.schemas import ERRORS, Id
from kehu.users import scoping, selectors, services
from kehu.users.schemas import MeOut, TokenCreatedOut, TokenIn, TokenOut

router = Router(tags=["me"])


@router.get("/me", response={200: MeOut, **ERRORS})
def me(request):
    """Who the token or session belongs to, and their roles."""
    user = request.auth
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": str(user),
        "email": user.email,
        "language": user.language,
        "roles": sorted(scoping.scope_for(user).roles),
    }


@router.get("/tokens", response={200: list[TokenOut], **ERRORS})
def token_list(request):
    """Your API tokens, newest first (secrets are never shown again)."""
    return selectors.tokens_of(actor=request.auth).order_by("-created_at", "-id")


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS})
def token_create(request, payload: TokenIn):
    """Create a token. The response holds the secret; it is stored only as a hash and cannot be shown again."""
    token, secret = services.api_token_create(actor=request.auth, name=payload.name)
    token.secret = secret
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS})
def token_revoke(request, token_id: Id):
    """Revoke one of your tokens; requests with it are refused from now on."""
    services.api_token_revoke(actor=request.auth, token_id=token_id)
    return Status(204, None)
