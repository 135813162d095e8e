from django.urls import path

from kefu.customers import import_views, views

app_name = "customers"
urlpatterns = [
    path("", views.search, name="search"),
    path("import/", import_views.import_page, name="import"),
]
