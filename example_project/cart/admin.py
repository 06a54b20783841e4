from django.contrib import admin

from example_project.cart.models import Cart, CartItem


class CartItemInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CartItem
    extra = 0


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["pk", "user", "status", "updated_at"]
    list_filter = ["status"]
    inlines = [CartItemInline]
