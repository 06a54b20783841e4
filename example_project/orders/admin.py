from django.contrib import admin

from example_project.orders.models import Order, OrderLine


class OrderLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OrderLine
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["pk", "user", "status", "total", "created_at"]
    list_filter = ["status"]
    inlines = [OrderLineInline]
