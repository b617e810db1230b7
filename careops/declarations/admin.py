"""Admin: candidacies readable; declarations and their frozen items strictly read-only."""

from django.contrib import admin

from careops.declarations.models import Candidacy, Declaration, DeclaredItem, ItemReview


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyAdmin):
    list_display = ["candidacy", "filing_date", "representative_name", "content_sha256"]


@admin.register(DeclaredItem)
class DeclaredItemAdmin(ReadOnlyAdmin):
    list_display = ["declaration", "item_code", "status"]


@admin.register(Candidacy)
class CandidacyAdmin(ReadOnlyAdmin):
    list_display = ["candidate", "domain", "state", "amount_eur"]
    list_filter = ["domain", "state", "region_code"]


@admin.register(ItemReview)
class ItemReviewAdmin(ReadOnlyAdmin):
    list_display = ["declaration", "item_code", "level", "verdict", "at"]
