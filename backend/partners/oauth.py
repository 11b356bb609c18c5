"""The OAuth2 validator: a suspended partner's credentials get no token."""

from oauth2_provider.oauth2_validators import OAuth2Validator


class PartnerOAuth2Validator(OAuth2Validator):
    def authenticate_client(self, request, *args, **kwargs):
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        partner = getattr(getattr(request.client, "user", None), "partner", None)
        if partner is None or not partner.is_active:
            return False
        # The client-credentials grant has no resource owner: the partner's service
        # user owns the token, so request.user is the partner's identity.
        request.user = request.client.user
        return True
