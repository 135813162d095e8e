"""Writes of the counter app (P11, P12): the queue in `queue`, cash in `cash`, set-up in `setup`."""

from kefu.counter.services.cash import (  # noqa: F401
    balance_receive,
    balance_submit,
    billing_push,
    billing_retry_pending,
    payment_take,
    price_list_publish,
    refund_decide,
    refund_pay,
    refund_request,
)
from kefu.counter.services.queue import (  # noqa: F401
    queue_call_next,
    queue_cancel,
    queue_finish,
    queue_no_show,
    queue_rate,
    queue_recall,
    queue_send,
    queue_start,
    queue_take,
    service_record,
    window_sign_in,
)
from kefu.counter.services.setup import counter_seed  # noqa: F401
