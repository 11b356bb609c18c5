"""The OAuth2 validator: a suspended partner's credentials get no token."""

from oauth2_provider.oauth2_validators import OAuth2Validator


class PartnerOAuth2Validator(OAuth2Validator):
    def authenticate_client(self, request, *args, **kwargs):
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        partner = getattr(getattr(request.client, "user", None), "partner", None)
        return partner is not None and partner.is_active
