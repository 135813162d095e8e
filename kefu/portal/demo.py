"""The portal step of `kefu demo` (kefu.core.demo): a demo customer who can log in to the portal.

The customer's code goes through the SMS gateway adapter; with the console gateway of development
(KEFU_SMS_GATEWAY=console) every message is also appended to var/sms-outbox.log, where the code is
read. The step prints the log-in address, the account number, the phone and that path."""

from __future__ import annotations

from django.conf import settings

from kefu.core.demo import DemoRun
from kefu.customers.models import Phone


def demo_customer(company):
    """The first customer of the company with a mobile phone and an address (the demo's household)."""
    row = (
        Phone.objects.filter(
            customer__company=company, kind=Phone.Kind.MOBILE, customer__premise__isnull=False
        )
        .select_related("customer")
        .order_by("customer_id", "id")
        .first()
    )
    return (row.customer, row.number) if row else (None, "")


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 70: name the portal's demo customer and where the SMS code appears."""
    customer, phone = demo_customer(run.company)
    if customer is None:
        return
    path = settings.VAR_DIR / "sms-outbox.log"
    run.summary.append(
        f"网上营业厅 /portal/c/{run.company.code}/ 演示客户：户号 {customer.account_no}，手机 {phone}，"
        f"短信验证码见 {path}"
    )
