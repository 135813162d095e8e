from django.urls import path

from kefu.kpi import views

app_name = "kpi"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("close/", views.close, name="close"),
    path("report/", views.monthly_report, name="report"),
    path("week/", views.weekly_summary, name="week"),
    path("group/", views.group, name="group"),
    path("targets/", views.targets, name="targets"),
    path("publication/<int:year>/", views.publication, name="publication"),
    path("public/<slug:company_code>/<int:year>/", views.public_publication, name="public"),
    path("<str:code>/", views.records, name="records"),
]
