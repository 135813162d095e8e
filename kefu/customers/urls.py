from django.urls import path

from kefu.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.search, name="search"),
    path("import/", views.import_page, name="import"),
]
