"""Synthetic call transcripts for the quality benchmarks: 40 turns, mostly polite, some with the
standard's faults (forbidden phrases in traditional or simplified characters, a bare surname, no
closing), timings like a real call. Deterministic from a seed."""

from __future__ import annotations

import random

POLITE = [
    "请您稍等，我帮您查一下。",
    "好的，我明白了，我们会尽快安排师傅上门。",
    "您的燃气表余额不足，请到营业厅或者手机上充值。",
    "对不起，让您久等了。",
    "请问您家的地址是哪个小区哪号楼？",
    "这是我们应该做的，请不要客气。",
    "安检人员会提前电话和您预约时间。",
    "IC卡读不出来的话，可以带身份证到营业厅补卡。",
]
CUSTOMER = [
    "嗯，那个，我家燃气表没气了，卡里还有钱。",
    "上周报修到现在还没人来。",
    "是幸福小区三号楼二单元五零一。",
    "灶具点不着火，啪啪响。",
    "好的，谢谢。",
    "你们什么时候能来？",
    "我闻到有点煤气味儿。",
    "電話號碼是一三八零零一三八零零零。",
]
FAULTS = [
    "這個我不知道。",
    "你找我没用，要解决就去找领导。",
    "急也没用，我太忙了。",
    "嫌贵，就别用。",
    "自己看着办吧。",
]
SURNAMES = "王李张刘陈杨赵黄周吴"


def transcript(rng: random.Random, *, turns: int = 40, company: str = "安泰燃气") -> dict:
    """One transcript as the API takes it (plus `customer_surname`, `hangup_by`)."""
    surname = rng.choice(SURNAMES)
    title = rng.choice(["先生", "女士"])
    out, t = [], 0
    faulty = rng.random() < 0.2
    for i in range(turns):
        agent = i % 2 == 0
        if i == 0:
            text = f"您好，{company}公司，请问有什么可以帮您？"
        elif i == 2:
            text = (
                f"{surname}{title}，" + rng.choice(POLITE)
                if not (faulty and rng.random() < 0.3)
                else f"{surname}，你说。"
            )
        elif agent and i == turns - 4:
            text = "您还有其他问题吗？" if not faulty else "还有事吗"
        elif agent and i == turns - 2:
            text = "感谢您的来电，如果有问题，请您与我们联系，再见！"
        elif agent:
            text = rng.choice(FAULTS) if faulty and rng.random() < 0.1 else rng.choice(POLITE)
        else:
            text = rng.choice(CUSTOMER)
        dur = 800 + len(text) * 200
        out.append(
            {"speaker": "agent" if agent else "customer", "text": text, "start_ms": t, "end_ms": t + dur}
        )
        t += dur + rng.randint(200, 900)
    return {
        "turns": out,
        "customer_surname": surname,
        "hangup_by": "agent" if faulty and rng.random() < 0.3 else "customer",
    }
