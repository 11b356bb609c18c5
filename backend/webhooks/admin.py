"""The back office of webhooks, for organisation admins: subscriptions (their
secrets never shown) and the delivery log, read-only, with a "redeliver"
action that calls services.webhooks.webhook_redeliver."""

from django.contrib import admin, messages

from backend.accounts.admin_access import AuditedReads, OrganisationAdminOnly
from backend.partners.admin import ReadOnly
from backend.webhooks.models import DeliveryAttempt, WebhookDelivery, WebhookSubscription
from services.errors import DomainError
from services.webhooks import webhook_redeliver


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["partner", "url", "is_active", "created_at", "deleted_at"]
    list_filter = ["is_active", "partner"]
    search_fields = ["url", "partner__name"]
    exclude = ["secret", "previous_secret"]


class DeliveryAttemptInline(OrganisationAdminOnly, admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "at", "status_code", "error", "latency_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AuditedReads, ReadOnly, admin.ModelAdmin):
    # Client events carry a client's ids: showing them is a read, audited.
    audit_object_type = "webhook_delivery"
    audit_client = "event__client_id"
    list_display = ["webhook_id", "event_type", "partner", "status", "attempts", "created_at"]
    list_filter = ["status", "event__type"]
    search_fields = ["webhook_id"]
    list_select_related = ["event", "subscription__partner"]
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver"]

    def _audit(self, request, pks, action):
        with_client = self.model._default_manager.filter(
            pk__in=pks, event__client__isnull=False
        ).values_list("pk", flat=True)
        super()._audit(request, list(with_client), action)

    @admin.display(description="event")
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description="partner")
    def partner(self, obj):
        return obj.subscription.partner

    @admin.action(description="Redeliver (same webhook-id, checks made again)")
    def redeliver(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                webhook_redeliver(delivery=delivery)
                done += 1
            except DomainError as exc:
                messages.warning(request, f"{delivery.webhook_id}: {exc.message}")
        if done:
            messages.success(request, f"{done} deliveries scheduled again.")
