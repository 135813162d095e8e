"""Writes of follow-ups (one module per area). Import the functions from here."""

from kefu.followups.services.complaints import (
    complaint_analyse,
    complaint_approve,
    complaint_assign_responsibility,
    complaint_close,
    complaint_execute,
    complaint_intake,
    complaint_judge,
    complaint_on_reply,
    complaint_open,
    complaint_plan,
    may_approve,
    may_handle,
)
from kefu.followups.services.knowledge import kb_decide, kb_propose, kb_withdraw
from kefu.followups.services.surveys import (
    campaign_create,
    campaign_stats,
    questionnaire_create,
    survey_answer_link,
    survey_answer_phone,
)
from kefu.followups.services.visits import (
    project_visits_schedule,
    questionnaire_for,
    visit_create_for_complaint,
    visit_record_attempt,
    visit_record_result,
    visit_take,
    visits_for_finished,
)

__all__ = [
    "campaign_create",
    "campaign_stats",
    "complaint_analyse",
    "complaint_approve",
    "complaint_assign_responsibility",
    "complaint_close",
    "complaint_execute",
    "complaint_intake",
    "complaint_judge",
    "complaint_on_reply",
    "complaint_open",
    "complaint_plan",
    "kb_decide",
    "kb_propose",
    "kb_withdraw",
    "may_approve",
    "may_handle",
    "project_visits_schedule",
    "questionnaire_create",
    "questionnaire_for",
    "survey_answer_link",
    "survey_answer_phone",
    "visit_create_for_complaint",
    "visit_record_attempt",
    "visit_record_result",
    "visit_take",
    "visits_for_finished",
]
