"""The standard's language rules, shipped as seed data with their source clause (L1, L2, L3, L4, L5).

`quality_seed_rules(company=…)` (kefu.quality.services) copies them into a company's rules, where
the quality lead can edit them (each edit is a new version). Every rule carries labelled examples
(should hit / should not) that run as its tests (test_seed_rules.py) and whose precision and recall
the rule screen shows.

Sources: 000 = the gas company's service standard (000 §4.1 basic phrases, §4.3 forms of address,
§4.5 the fifteen groups of forbidden phrases, 15.2.4–15.2.12 answering calls, 15.6 return visits);
001 = the customer-service standards collection (篇2 六 silent calls and noisy lines, 篇4 七 11
negative wording).
"""

from __future__ import annotations

#: 000 §4.5 禁忌用语: the fifteen groups, each with its clause. Phrases are matched after
#: normalisation (traditional/simplified, punctuation, fillers), so 「不知道」 also finds 不知道。
FORBIDDEN_GROUPS: list[tuple[str, str, list[str]]] = [
    ("4.5.1", "不知道、不管", ["不知道", "不管"]),
    ("4.5.2", "找领导去", ["找领导去", "你找我没用，要解决就去找领导", "你找我没用"]),
    ("4.5.3", "不能办就是不能办", ["不能办就是不能办", "没有为什么", "这是规矩"]),
    ("4.5.4", "不是告诉你了吗", ["不是告诉你了吗", "怎么还问"]),
    ("4.5.5", "急也没用，我太忙了", ["急也没用", "我太忙了"]),
    ("4.5.6", "有意见，告去", ["有意见，告去", "有意见告去", "你尽管投诉好了", "你尽管投诉"]),
    ("4.5.7", "我没工夫", ["我没工夫"]),
    ("4.5.8", "我就这态度", ["我就这态度", "你问我，我问谁", "你问我我问谁"]),
    ("4.5.9", "快下班了，明天再来", ["快下班了，明天再来", "快下班了"]),
    ("4.5.10", "我解决不了", ["我解决不了"]),
    ("4.5.11", "我不是为你一个人服务的", ["我不是为你一个人服务的"]),
    ("4.5.12", "嫌贵，就别用", ["嫌贵，就别用", "嫌贵就别用"]),
    ("4.5.13", "现在才说，干吗不早说", ["现在才说", "干吗不早说", "你怎么这么多毛病", "我们一向都是这样"]),
    ("4.5.14", "自己看着办", ["自己看着办"]),
    ("4.5.15", "没看到我在忙吗", ["没看到我在忙吗"]),
]

#: Phrases of a group that are also innocent inside a longer polite sentence: excluded by pattern.
#: 「不管」 inside 「不管怎样/不管什么时候我们都…」 is how a helpful agent speaks.
_EXCLUDES = {"4.5.1": "不管(怎样|怎么样|什么|多晚|多远|任何|是否|白天|刮风)|不知道(您|你)(是否|能否|方便)"}

#: Should-hit and should-not examples of each forbidden group (the rule's own tests).
_FORBIDDEN_EXAMPLES = {
    "4.5.1": (["這個我不知道。", "嗯，这事我们不管"], ["不管多晚我们都会派人上门", "不知道您是否方便"]),
    "4.5.2": (["你找我没用，要解决就去找领导", "找領導去吧"], ["我帮您联系我们领导"]),
    "4.5.3": (["不能办就是不能办，没有为什么"], ["这个业务我们可以办"]),
    "4.5.4": (["不是告訴你了嗎？怎麼還問"], ["我再给您说一遍"]),
    "4.5.5": (["急也没用，我太忙了"], ["我理解您很着急"]),
    "4.5.6": (["有意见，告去！", "你儘管投訴好了"], ["您的意见我们会认真处理"]),
    "4.5.7": (["我没工夫"], ["我现在就帮您查"]),
    "4.5.8": (["我就这态度", "你问我，我问谁"], ["请问您贵姓"]),
    "4.5.9": (["快下班了，明天再来"], ["我们明天上午九点上门"]),
    "4.5.10": (["这个我解决不了"], ["我来帮您解决"]),
    "4.5.11": (["我不是为你一个人服务的"], ["很高兴为您服务"]),
    "4.5.12": (["嫌贵，就别用"], ["我给您解释一下收费标准"]),
    "4.5.13": (["现在才说，干吗不早说", "你怎么这么多毛病"], ["感谢您及时告诉我们"]),
    "4.5.14": (["那你自己看着办"], ["我们来帮您办"]),
    "4.5.15": (["没看到我在忙吗"], ["请您稍等"]),
}


def _examples(hit: list[str], miss: list[str]) -> list[dict]:
    return [{"text": t, "hit": True} for t in hit] + [{"text": t, "hit": False} for t in miss]


def _turns(*pairs, **extra) -> dict:
    turns = []
    for p in pairs:
        speaker, text = p[0], p[1]
        t = {"speaker": speaker, "text": text}
        if len(p) > 2:
            t["start_ms"], t["end_ms"] = p[2], p[3]
        turns.append(t)
    return {"turns": turns, **extra}


def seed_rules() -> list[dict]:
    """Every seed rule: code, name, clause, severity, weight, spec (kefu.quality.engine.RuleSpec as
    JSON), examples, and `sources` (which texts it applies to: call, chat, reply)."""
    rules: list[dict] = []
    for clause, name, phrases in FORBIDDEN_GROUPS:
        spec = {"kind": "forbidden", "any": phrases}
        if clause in _EXCLUDES:
            spec["exclude"] = _EXCLUDES[clause]
        hit, miss = _FORBIDDEN_EXAMPLES[clause]
        rules.append(
            {
                "code": f"forbidden-{clause}",
                "name": f"禁忌用语：{name}",
                "clause": f"000 {clause}",
                "severity": "major",
                "weight": 10,
                "spec": spec,
                "examples": _examples(hit, miss),
                "sources": ["call", "chat", "reply"],
            }
        )
    rules += [
        {
            "code": "negative-wording",
            "name": "负面语言：我不能、我不会、我不愿意",
            "clause": "001 篇4 七11",
            "severity": "minor",
            "weight": 3,
            "spec": {
                "kind": "forbidden",
                "any": ["我不能", "我不会", "我不愿意", "我不能够"],
                "exclude": "我不会(忘|让|耽误|不管)",
            },
            "examples": _examples(["我不能给您办", "我不願意"], ["我不会让您久等的", "我会尽快给您办"]),
            "sources": ["call", "chat", "reply"],
        },
        {
            "code": "opening",
            "name": "开头语：您好 + 公司名称",
            "clause": "000 15.2.4",
            "severity": "major",
            "weight": 10,
            "spec": {"kind": "required", "all": ["您好", "{company}"], "speaker": "agent", "turns": [1, 1]},
            "examples": [
                {
                    **_turns(("agent", "您好，安泰燃气公司，请问有什么可以帮您？")),
                    "company": "安泰燃气",
                    "hit": False,
                },
                {**_turns(("agent", "喂，说吧")), "company": "安泰燃气", "hit": True},
                {
                    **_turns(("agent", "喂？"), ("agent", "您好，安泰燃气")),
                    "company": "安泰燃气",
                    "hit": True,
                },
            ],
            "sources": ["call"],
        },
        {
            "code": "closing-question",
            "name": "结束前询问：您还有其他问题吗",
            "clause": "000 15.2.12",
            "severity": "minor",
            "weight": 5,
            "spec": {
                "kind": "required",
                "any": [
                    "您还有其他问题吗",
                    "还有其他问题吗",
                    "还有其它问题吗",
                    "还有什么可以帮您",
                    "还有什么帮您的吗",
                    "还有其他需要",
                ],
                "speaker": "agent",
                "turns": [-3, -1],
            },
            "examples": [
                _turns(("agent", "您好"), ("customer", "好的"), ("agent", "您还有其它问题吗？"), hit=False),
                _turns(("agent", "您好"), ("customer", "好的"), ("agent", "行，挂了"), hit=True),
            ],
            "sources": ["call", "chat"],
        },
        {
            "code": "farewell",
            "name": "结束语：感谢您的来电，再见",
            "clause": "000 15.2.12",
            "severity": "minor",
            "weight": 5,
            "spec": {
                "kind": "required",
                "all": ["再见"],
                "any": ["感谢您的来电", "感谢您的支持", "感谢您"],
                "speaker": "agent",
                "turns": [-2, -1],
            },
            "examples": [
                _turns(
                    ("agent", "您好"), ("agent", "感謝您的來電，如果有問題請您與我們聯繫，再見！"), hit=False
                ),
                _turns(("agent", "您好"), ("agent", "好，就这样"), hit=True),
            ],
            "sources": ["call"],
        },
        {
            "code": "address-title",
            "name": "称呼：姓氏 + 先生/女士",
            "clause": "000 4.3.2, 15.2.5",
            "severity": "minor",
            "weight": 5,
            "spec": {
                "kind": "required",
                "any": ["{surname}先生", "{surname}女士"],
                "speaker": "agent",
                "turns": [1, 3],
            },
            "examples": [
                _turns(
                    ("agent", "您好"),
                    ("customer", "我姓王"),
                    ("agent", "王先生，您请讲"),
                    surname="王",
                    hit=False,
                ),
                _turns(
                    ("agent", "您好"), ("customer", "我姓王"), ("agent", "您请讲"), surname="王", hit=True
                ),
            ],
            "sources": ["call"],
        },
        {
            "code": "bare-surname",
            "name": "称呼：不得直呼姓氏（老王、小王、王，…）",
            "clause": "000 4.3.2, 15.2.5",
            "severity": "minor",
            "weight": 5,
            "spec": {
                "kind": "forbidden",
                "pattern": "(^|老|小)({surname})(?!先生|女士|小姐|师傅|老师|阿姨|经理|工)"
                "(?=[你您那这就我]|$)",
            },
            "examples": [
                {"text": "王，你家表号多少", "surname": "王", "hit": True},
                {"text": "老王你等一下", "surname": "王", "hit": True},
                {"text": "王先生，您家表号多少", "surname": "王", "hit": False},
                {"text": "我们在王府井那边", "surname": "王", "hit": False},
            ],
            "sources": ["call", "chat"],
        },
        {
            "code": "return-visit-opening",
            "name": "回访开头语：您好，××燃气为您服务",
            "clause": "000 15.6.1",
            "severity": "major",
            "weight": 10,
            "spec": {
                "kind": "required",
                "all": ["您好", "{company}", "为您服务"],
                "speaker": "agent",
                "turns": [1, 1],
            },
            "examples": [
                {**_turns(("agent", "您好，安泰燃气为您服务！")), "company": "安泰燃气", "hit": False},
                {**_turns(("agent", "您好，我是回访的")), "company": "安泰燃气", "hit": True},
            ],
            "sources": ["return_visit"],
        },
        {
            "code": "silent-call-script",
            "name": "无声电话：按话术提示后再挂断",
            "clause": "001 篇2 六6",
            "severity": "minor",
            "weight": 5,
            "spec": {
                "kind": "silence",
                "any": ["您的电话没有声音", "请您换一个电话再打过来", "请您换个电话再打过来"],
                "silence_ms": 10000,
            },
            "examples": [
                _turns(
                    ("agent", "您好，请问有什么可以帮到您？"),
                    ("agent", "对不起，您的电话没有声音，请您换一个电话再打过来，再见！"),
                    hit=False,
                ),
                _turns(("agent", "您好？"), ("agent", "没人说话我挂了"), hit=True),
                _turns(("agent", "您好"), ("customer", "我家没气了"), hit=False),
            ],
            "sources": ["call"],
        },
        {
            "code": "noisy-line-script",
            "name": "杂音电话：请客户大点声或换电话",
            "clause": "001 篇2 六7",
            "severity": "minor",
            "weight": 3,
            "spec": {"kind": "noise", "any": ["您的电话听不清楚", "请您大点声", "请您换个电话再打过来"]},
            "examples": [
                _turns(
                    ("agent", "对不起，先生，您的电话听不清楚，请您大点声，好吗？"), noisy=True, hit=False
                ),
                _turns(("agent", "喂喂喂？"), noisy=True, hit=True),
                _turns(("agent", "您好"), hit=False),
            ],
            "sources": ["call"],
        },
        {
            "code": "talking-over",
            "name": "争执：多次打断、抢话",
            "clause": "000 4.4.3, 15.2.11",
            "severity": "major",
            "weight": 10,
            "spec": {"kind": "overlap", "overlap_ms": 800, "times": 2},
            "examples": [
                _turns(
                    ("customer", "你们这个", 0, 5000),
                    ("agent", "不是", 2000, 3000),
                    ("customer", "听我说", 5000, 9000),
                    ("agent", "你听我说", 6000, 8000),
                    hit=True,
                ),
                _turns(("customer", "我家没气了", 0, 3000), ("agent", "好的", 3100, 4000), hit=False),
            ],
            "sources": ["call"],
        },
        {
            "code": "hangup-first",
            "name": "先于客户挂机",
            "clause": "000 15.2.12",
            "severity": "minor",
            "weight": 5,
            "spec": {"kind": "hangup"},
            "examples": [
                {"text": "再见", "hangup_by": "agent", "hit": True},
                {"text": "再见", "hangup_by": "customer", "hit": False},
            ],
            "sources": ["call"],
        },
    ]
    return rules
