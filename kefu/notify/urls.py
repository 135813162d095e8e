from django.urls import path

from kefu.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.centre, name="centre"),
    path("read/", views.mark_read, name="mark_read"),
]
