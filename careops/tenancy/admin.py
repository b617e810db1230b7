"""Django admin: organisations and grants are editable; the audit trail is read-only."""

from django.contrib import admin

from careops.core.models import AuditEvent
from careops.tenancy.models import Organisation, RoleAssignment


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "finess", "category", "region_code", "activity_weight"]
    list_filter = ["kind", "category", "region_code"]
    search_fields = ["name", "finess"]
    readonly_fields = ["path", "depth"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "organisation", "include_subtree"]
    list_filter = ["role"]
    search_fields = ["user__username", "organisation__name"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "organisation", "summary"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
