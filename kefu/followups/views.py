from django.http import HttpResponse


def _stub(*a, **k):
    return HttpResponse("")


index = complaint_list = complaint_detail = complaint_act = staff_complaints = visit_queue = _stub
visit_detail = visit_act = kb = kb_search = kb_propose = kb_article = kb_decide = consultation_refer = _stub
surveys = survey_detail = survey_export = survey_phone = survey_link = indicators = _stub
