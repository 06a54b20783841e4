from django.contrib.auth import views as auth_views
from django.urls import path

from example_project.accounts import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("coupons/", views.my_coupons, name="my_coupons"),
    path("coupons/referral/", views.create_referral, name="create_referral"),
    path("points/", views.my_points, name="my_points"),
]
