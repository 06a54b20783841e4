from django.urls import path

from example_project.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.product_list, name="list"),
    path("products/<str:sku>/", views.product_detail, name="detail"),
]
