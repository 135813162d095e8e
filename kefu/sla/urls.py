from django.urls import path

from kefu.sla import views

app_name = "sla"
urlpatterns = [
    path("", views.commitment_sets, name="sets"),
    path("sets/<int:pk>/", views.commitment_set_detail, name="set_detail"),
    path("calendar/", views.calendar_year, name="calendar"),
    path("calendar/overrides/", views.overrides, name="overrides"),
    path("calendar/overrides/<int:pk>/delete/", views.override_delete, name="override_delete"),
]
