from django.urls import path

from example_project.cart import views

app_name = "cart"
urlpatterns = [
    path("", views.cart_detail, name="detail"),
    path("add/", views.cart_add, name="add"),
    path("update/", views.cart_update, name="update"),
    path("delivery/", views.cart_delivery, name="delivery"),
]
