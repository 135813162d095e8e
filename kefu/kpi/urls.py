from django.urls import path

from kefu.kpi import views

app_name = "kpi"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("close/", views.close, name="close"),
    path("<str:code>/", views.records, name="records"),
]
