from django.urls import path

from example_project.orders import views
from example_project.orders.models import Order

app_name = "orders"
urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("", views.order_list, name="list"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/pay/", views.pay, name="pay"),
    path(
        "<int:pk>/cancel/",
        views.order_change,
        {"status": Order.Status.CANCELLED},
        name="cancel",
    ),
    path(
        "<int:pk>/return/",
        views.order_change,
        {"status": Order.Status.RETURNED},
        name="return",
    ),
]
