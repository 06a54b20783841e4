from django.urls import path

from example_project.demo import views

app_name = "demo"
urlpatterns = [path("outage/", views.outage, name="outage")]
