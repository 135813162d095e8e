"""Every table would shard by company (docs/operator-guide.md "Growing past one server").

A group like China Resources Gas (≈ 60 million customers) runs kefu on a distributed PostgreSQL
(Citus) whose business tables are distributed by `company_id`. That only works when:

1. every business table carries `company_id` (the distribution column), or is a *reference table*
   (small, the same on every node: companies, global code lists);
2. every unique key includes `company_id` (a node can only enforce uniqueness among its own
   rows), or belongs to a reference table;
3. every foreign key points at a reference table, or joins two tables that both carry `company_id`
   (on Citus the key becomes (company_id, x_id) → (company_id, id), co-located on one node).

The test walks every model of the kefu apps (with the many-to-many tables Django creates) and fails
on anything else that is not on the explicit allow-lists below, each with its reason. A new model
that would not shard fails here first.
"""

from __future__ import annotations

from django.apps import apps

COMPANY = "company_id"

# Small tables copied to every node (Citus reference tables): reachable from any shard.
_STAFF = (
    "staff and their sign-in security: thousands of rows for a whole "
    "group, read on every request; copied to every node"
)
REFERENCE_TABLES: dict[str, str] = {
    "accounts.Company": "the distribution key itself: one row per member company, copied to every node",
    "accounts.CompanyGroup": "the group above the companies: a handful of rows",
    "accounts.User": _STAFF + " (sign-in needs one username space for the whole group)",
    "accounts.User_groups": _STAFF,
    "accounts.User_user_permissions": _STAFF,
    "accounts.PasswordHistory": _STAFF,
    "accounts.LoginFailure": _STAFF,
    "accounts.Lockout": _STAFF,
    "accounts.ApiToken": _STAFF + " (a token is looked up by its hash before its company is known)",
    "accounts.AuditArchive": "index of audit-log archive files: a few rows a month for the group",
    "core.Lease": "worker bookkeeping (one row per periodic job), used by the coordinator only",
    "auth.Group": "Django's permission groups: a few rows",
    "auth.Permission": "Django's permission list: fixed by the code",
    "contenttypes.ContentType": "Django's model list: fixed by the code",
    "sla.CalendarYear": (
        "the national working-day calendar (rows with company_id empty are the state's), same for all"
    ),
    "sla.CalendarOverride": "the national working-day calendar's changes, same for all companies",
    "telephony.Hotline": (
        "a few numbers per company; an incoming call is routed by number before its company is known"
    ),
}


# Tables without company_id today, each with why and what sharding them needs. A child table (rows
# that belong to one parent row) reaches its company through the parent; before the tables are
# distributed it gets the parent's company_id (one migration per app: add the column, fill it from
# the parent, make it part of the foreign key), and until then it cannot be distributed.
def _child(parent: str) -> str:
    return (
        f"child rows of {parent}: company_id is the parent's; add it "
        "(filled from the parent) before distributing"
    )


NO_COMPANY_ALLOWED: dict[str, str] = {
    "customers.CustomerStatusChange": _child("customers.Customer"),
    "customers.Phone": _child("customers.Customer"),
    "customers.Meter": _child("customers.Customer"),
    "customers.CareRegistration": _child("customers.Customer"),
    "tickets.TicketSubKind": _child("tickets.TicketKind"),
    "field.Crew_members": _child("field.Crew"),
    "sla.Commitment": _child("sla.CommitmentSet"),
    "sla.ClockPause": _child("sla.Clock"),
    "telephony.CallTransfer": _child("telephony.Call"),
    "telephony.CallTicket": _child("telephony.Call"),
    "telephony.ChatMessage": _child("telephony.ChatSession"),
    "inspections.CoverageCount": _child("inspections.Programme")
    + " (kept by triggers on inspections.LedgerEntry: the triggers copy it from the ledger row)",
    "outages.AffectedPremise": _child("outages.Outage"),
    "outages.Notice": _child("outages.Outage"),
    "outages.RestorationStep": _child("outages.Outage"),
    "outages.OutageCall": _child("outages.Outage"),
    "outages.FaultReport": _child("outages.Outage"),
    "outages.OutageEvent": _child("outages.Outage"),
    "outages.NetworkPremise": _child("outages.NetworkNode"),
    "workforce.StaffingNeed": _child("workforce.ShiftPattern"),
    "workforce.RosterChange": _child("workforce.Roster"),
    "quality.RuleVersion": _child("quality.Rule"),
    "quality.EvaluationEvent": _child("quality.Evaluation"),
    "counter.Window": _child("counter.Hall"),
    "counter.Window_business_types": _child("counter.Window"),
    "counter.QueueTicket": _child("counter.Hall"),
    "counter.Service": _child("counter.QueueTicket"),
    "counter.PriceItem": _child("counter.PriceList"),
    "counter.PaymentLine": _child("counter.Payment"),
    "portal.PortalSession": _child("portal.PortalAccount"),
    "outages.DeliveryReceipt": (
        "the SMS gateway's receipts, keyed by the gateway's message id and stored before "
        "they are matched to a notice: a coordinator-local table, never joined on a node"
    ),
}

_ONE_PER_USER = (
    "one row per staff user, and a user belongs to one company, so (company_id, user_id) means the same"
)
_RANDOM_TOKEN = (
    "a random secret of 128+ bits, looked up before the company is known: unique by construction; on the "
    "distributed database the lookup goes through a reference table of token → company"
)
# Unique keys without company_id ("app.Model:constraint"), with why they need not include it.
UNIQUE_ALLOWED: dict[str, str] = {
    "field.Technician:user_id": _ONE_PER_USER,
    "telephony.AgentProfile:user_id": _ONE_PER_USER,
    "workforce.WorkerProfile:user_id": _ONE_PER_USER,
    "notify.Notification:notification_once": (
        "per recipient (a staff user, one company): (company_id, …) means the same"
    ),
    "telephony.ChatSession:token": _RANDOM_TOKEN,
    "followups.SurveyResponse:token": _RANDOM_TOKEN,
    "sla.Clock:sla_clock_one_open_per_commitment": (
        "commitment belongs to one company's commitment set, so the company is a function "
        "of the key; becomes (company_id, …) when sla.Commitment gets company_id"
    ),
    "sla.ClockAttachment:sla_attachment_subject": (
        "subject ids are group-wide primary keys of company tables (one global sequence "
        "per table), so a subject has one company; add company_id to the key on Citus"
    ),
    "followups.ReturnVisit:visit_ticket_reason": (
        "a ticket belongs to one company: (company_id, …) means the same"
    ),
    "followups.ReturnVisit:visit_project_due": (
        "a project belongs to one company: (company_id, …) means the same"
    ),
    "followups.SurveyResponse:survey_one_per_customer": "campaign and customer belong to one company: "
    "(company_id, …) means the same",
    "workforce.Violation:wf_absent_once": (
        "an assignment belongs to one company's roster: (company_id, …) means the same"
    ),
    "telephony.CallInterval:telephony_interval_unique": (
        "a hotline belongs to one company (a reference table row with its company): "
        "(company_id, …) means the same"
    ),
    "followups.VisitCall:call_ref": (
        "the call id kefu draws for the PBX (64 random bits), looked up when the PBX reports the call "
        "before its company is known: unique by construction"
    ),
    "counter.QueueTicket:token": (
        "the phone link of a queue number (96 random bits), opened without login before the company is known"
    ),
    "portal.PortalSession:token_hash": _RANDOM_TOKEN,
    "outages.DeliveryReceipt:receipt_unique": "a coordinator-local table (see NO_COMPANY_ALLOWED)",
    "outages.Notice:notice_gateway_message_unique": "the gateway's message id is unique per gateway account; "
    "each company has its own gateway account, so (company_id, …) means the same",
}

# Foreign keys that are neither to a reference table nor between two company tables.
FK_ALLOWED: dict[str, str] = {}


def _models():
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if not opts.app_config.name.startswith("kefu.") or opts.proxy or not opts.managed:
            continue
        yield model


def _columns(model) -> set[str]:
    return {f.column for f in model._meta.concrete_fields}


def _unique_keys(model) -> list[tuple[str, frozenset[str]]]:
    opts = model._meta
    keys = []
    for f in opts.concrete_fields:
        if f.unique and not f.primary_key:
            keys.append((f.column, frozenset({f.column})))
    for fields in opts.unique_together:
        cols = frozenset(opts.get_field(n).column for n in fields)
        keys.append((",".join(sorted(cols)), cols))
    for c in opts.constraints:
        names = getattr(c, "fields", ()) or ()
        if c.__class__.__name__ == "UniqueConstraint" and names:
            cols = frozenset(opts.get_field(n).column for n in names)
            keys.append((c.name, cols))
    return keys


def _company_scoped(model) -> bool:
    """Rows belong to one company: the table has company_id, or is an allowed child table
    (it will get its parent's company_id before distributing)."""
    return COMPANY in _columns(model) or model._meta.label in NO_COMPANY_ALLOWED


def _company_determined(model, key: frozenset[str]) -> bool:
    """The key contains a not-null reference to a company-scoped row, so the company is a function of
    the key: (company_id, *key) is unique exactly when the key is, and a node enforces it locally."""
    for f in model._meta.concrete_fields:
        if f.column in key and f.is_relation and f.related_model is not None and not f.null:
            if f.related_model._meta.label not in REFERENCE_TABLES and _company_scoped(f.related_model):
                return True
    return False


def _problems() -> list[str]:
    problems = []
    for model in _models():
        label = model._meta.label
        if label in REFERENCE_TABLES:
            continue
        cols = _columns(model)
        if COMPANY not in cols and label not in NO_COMPANY_ALLOWED:
            problems.append(
                f"{label}: no company_id (add it, or list the table in NO_COMPANY_ALLOWED with why)"
            )
        for name, key in _unique_keys(model):
            if COMPANY in key or _company_determined(model, key) or f"{label}:{name}" in UNIQUE_ALLOWED:
                continue
            problems.append(f"{label}:{name}: unique key without company_id")
        for f in model._meta.concrete_fields:
            if not f.is_relation or f.related_model is None:
                continue
            target = f.related_model
            if target._meta.label in REFERENCE_TABLES:
                continue
            if _company_scoped(model) and _company_scoped(target):
                continue  # co-located: (company_id, x_id) → (company_id, id) on the distributed database
            if f"{label}.{f.name}" not in FK_ALLOWED:
                problems.append(
                    f"{label}.{f.name} → {target._meta.label}: foreign key not co-located by company"
                )
    return problems


def test_every_table_would_shard_by_company():
    problems = _problems()
    assert not problems, "tables that would not shard by company:\n" + "\n".join(problems)


def test_the_allow_lists_name_only_what_exists():
    from django.apps import apps as registry

    labels = {m._meta.label for m in registry.get_models(include_auto_created=True)}
    stale = [
        k
        for k in [*REFERENCE_TABLES, *NO_COMPANY_ALLOWED, *UNIQUE_ALLOWED, *FK_ALLOWED]
        if k.split(":")[0] not in labels and k.split(":")[0].rsplit(".", 1)[0] not in labels
    ]
    assert not stale, stale
    for d in (REFERENCE_TABLES, NO_COMPANY_ALLOWED, UNIQUE_ALLOWED, FK_ALLOWED):
        assert all(reason.strip() for reason in d.values())
