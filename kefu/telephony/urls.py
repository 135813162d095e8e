"""Telephony pages: /telephony/ (agent console), wallboard, calls, indicators, chats;
/telephony/chat/<company>/ is the customers' chat page (no login)."""

from django.urls import path

from kefu.telephony import views

app_name = "telephony"
urlpatterns = [
    path("", views.console, name="console"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("calls/", views.calls, name="calls"),
    path("calls/<int:call_pk>/", views.call_detail, name="call"),
    path("calls/<int:call_pk>/recording/", views.recording, name="recording"),
    path("indicators/", views.indicators, name="indicators"),
    path("hotlines/", views.hotlines, name="hotlines"),
    path("hotlines/new/", views.hotline_edit, name="hotline_new"),
    path("hotlines/<int:hotline_id>/", views.hotline_edit, name="hotline_edit"),
    path("chats/", views.chats, name="chats"),
    path("chats/<int:chat_id>/", views.chat_console, name="chat_console"),
    path("chat/s/<str:token>/", views.chat_session, name="chat_session"),
    path("chat/<slug:company_code>/", views.chat_public, name="chat_public"),
]
