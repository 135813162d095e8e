"""The customer's portal pages (网上营业厅), /portal/; the WeChat server URL /portal/wechat/<company>/."""

from django.urls import path

from kefu.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),
    path("c/<slug:company_code>/", views.login, name="login"),
    path("verify/<int:challenge_id>/", views.verify, name="verify"),
    path("logout/", views.logout, name="logout"),
    path("report/", views.report, name="report"),
    path("leak/", views.leak, name="leak"),
    path("book/", views.book, name="book"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:ticket_id>/", views.order, name="order"),
    path("outages/", views.outages, name="outages"),
    path("commitments/", views.commitments, name="commitments"),
    path("chat/", views.chat, name="chat"),
    path("me/", views.me, name="me"),
    path("wechat/<slug:company_code>/", views.wechat, name="wechat"),
    path("staff/access/", views.access_log_page, name="access_log"),
]
