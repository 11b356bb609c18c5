"""Who may open the back office's clinical and operational pages."""

from services.access import access_scope


class OrganisationAdminOnly:
    """A ModelAdmin mixin: only organisation admins see these pages at all.

    Django's model permissions are organisation-wide, while care teams see
    only their sites' records; rather than a second, per-site admin, the
    back office of episodes, placements, transfers, hand-offs, notifications,
    audit events and work is for organisation admins, and care teams use the API.
    """

    def has_module_permission(self, request):
        return access_scope(request.user).is_org_admin

    def has_view_permission(self, request, obj=None):
        return access_scope(request.user).is_org_admin
