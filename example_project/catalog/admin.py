from django.contrib import admin

from example_project.catalog.models import Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["sku", "name", "category", "price", "active"]
    list_filter = ["category", "active"]
    search_fields = ["sku", "name"]
