from django.urls import path

from kefu.workforce import views

app_name = "workforce"
urlpatterns = [
    path("", views.home, name="home"),
    path("on-duty/", views.on_duty, name="on_duty"),
    path("rosters/", views.rosters, name="rosters"),
    path("rosters/propose/", views.roster_propose, name="roster_propose"),
    path("patterns/new/", views.pattern_new, name="pattern_new"),
    path("rosters/<int:pk>/", views.roster_detail, name="roster"),
    path("rosters/<int:pk>/publish/", views.roster_publish, name="roster_publish"),
    path("rosters/<int:pk>/edit/", views.roster_edit, name="roster_edit"),
    path("requests/", views.requests_page, name="requests"),
    path("leave/new/", views.leave_new, name="leave_new"),
    path("leave/<int:pk>/<str:action>/", views.leave_act, name="leave_act"),
    path("swaps/new/", views.swap_new, name="swap_new"),
    path("swaps/<int:pk>/<str:action>/", views.swap_act, name="swap_act"),
    path("handovers/", views.handovers, name="handovers"),
    path("handovers/new/", views.handover_new, name="handover_new"),
    path("handovers/<int:pk>/<str:action>/", views.handover_act, name="handover_act"),
    path("attendance/", views.attendance, name="attendance"),
    path("attendance/punch/", views.punch, name="punch"),
    path("penalties/", views.penalties, name="penalties"),
    path("penalties/<int:pk>/<str:action>/", views.penalty_act, name="penalty_act"),
]
