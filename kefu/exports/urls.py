"""/exports/: my exports, approvals, the request form, one request, its file, the classification."""

from django.urls import path

from kefu.exports import views

app_name = "exports"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("approvals/", views.approvals, name="approvals"),
    path("new/", views.new, name="new"),
    path("classes/", views.classes, name="classes"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/refuse/", views.refuse, name="refuse"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/download/", views.download, name="download"),
]
