"""django-oauth-toolkit's scopes, per partner: a token is granted only the
scopes its partner holds (Partner.scopes), and all of them when none are asked."""

from oauth2_provider.scopes import SettingsScopes


class PartnerScopes(SettingsScopes):
    def _partner_scopes(self, application) -> list[str]:
        partner = getattr(getattr(application, "user", None), "partner", None)
        if partner is None or not partner.is_active:
            return []
        return [s for s in partner.scopes if s in self.get_all_scopes()]

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return self._partner_scopes(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self._partner_scopes(application)
