from django.urls import path

from kefu.customers import import_views, views

app_name = "customers"
urlpatterns = [
    path("", views.search, name="search"),
    path("new/", views.create, name="create"),
    path("import/", import_views.import_page, name="import"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/full/", views.unmask, name="unmask"),
    path("<int:pk>/edit/", views.edit, name="edit"),
]
