"""Import of the pipe network the utility's GIS exports (CSV or GeoJSON), validated line by line.

CSV: two files. `nodes.csv` with the columns `id,kind,name,lon,lat,accounts` (kind: source,
regulator, junction, valve, service — or 气源, 调压站, 节点, 阀门, 用户; `accounts`: the 户号 of the
premises a service connection feeds, separated by `;`), and `edges.csv` with `id,from,to` (pipe
segments). GeoJSON: one FeatureCollection; Point features are nodes (properties id, kind, name,
accounts), LineString features are pipes (properties id, from, to).

Nothing is written unless every line is valid: a report lists each bad line (file, line, message):
duplicate ids, unknown kinds, pipes to unknown nodes (dangling edges), unknown premises
(account numbers not in the company), a valve on no pipe, bad coordinates. A valid import replaces
the company's network in one transaction (frozen affected lists keep their premises).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError
from kefu.customers.models import Customer
from kefu.outages.models import NetworkEdge, NetworkImport, NetworkNode, NetworkPremise

KIND_ALIASES = {
    "source": "source",
    "气源": "source",
    "regulator": "regulator",
    "调压站": "regulator",
    "junction": "junction",
    "节点": "junction",
    "valve": "valve",
    "阀门": "valve",
    "service": "service",
    "用户": "service",
    "用户接入点": "service",
}
MAX_ERRORS = 500


@dataclass
class Parsed:
    nodes: list[dict] = field(default_factory=list)
    edges: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def err(self, file: str, line: int, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"file": file, "line": line, "message": message})


def _text(data: bytes | str) -> str:
    text = None
    if isinstance(data, str):
        text = data
    else:
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
    if text is None:
        raise DomainError(_("文件编码无法识别（请使用 UTF-8 或 GBK）。"))
    if "\x00" in text:  # a binary file, or a broken export; PostgreSQL cannot store NUL
        raise DomainError(_("文件中含有不允许的控制字符（NUL），不是文本文件。"))
    return text


def _coord(value) -> float | None:
    if value in (None, ""):
        return None
    return float(value)


def parse_csv(nodes_data: bytes | str, edges_data: bytes | str) -> Parsed:
    p = Parsed()
    try:
        node_rows = list(csv.DictReader(io.StringIO(_text(nodes_data))))
        edge_rows = list(csv.DictReader(io.StringIO(_text(edges_data))))
    except csv.Error as exc:
        raise DomainError(_("CSV 文件格式有误：%(e)s") % {"e": str(exc)[:100]}) from None
    for line, row in enumerate(node_rows, start=2):
        _node(p, "nodes.csv", line, row)
    for line, row in enumerate(edge_rows, start=2):
        p.edges.append(
            {
                "file": "edges.csv",
                "line": line,
                "id": (row.get("id") or "").strip(),
                "a": (row.get("from") or "").strip(),
                "b": (row.get("to") or "").strip(),
            }
        )
    return p


def _node(p: Parsed, file: str, line: int, props: dict, coords=None) -> None:
    kind = KIND_ALIASES.get(str(props.get("kind") or "").strip().lower())
    nid = str(props.get("id") or "").strip()
    if not nid:
        p.err(file, line, _("缺少编号 id。"))
        return
    if kind is None:
        p.err(
            file, line, _("节点 %(id)s 的类型“%(k)s”无法识别。") % {"id": nid, "k": props.get("kind") or ""}
        )
        return
    try:
        lon, lat = coords if coords is not None else (_coord(props.get("lon")), _coord(props.get("lat")))
        if lon is not None and not (-180 <= float(lon) <= 180 and -90 <= float(lat) <= 90):
            raise ValueError
    except (TypeError, ValueError):
        p.err(file, line, _("节点 %(id)s 的坐标无效。") % {"id": nid})
        return
    accounts = props.get("accounts") or ""
    if not isinstance(accounts, (str, list)):
        accounts = str(accounts)
    if isinstance(accounts, list):
        accounts = ";".join(str(a) for a in accounts)
    accs = [a.strip() for a in str(accounts).replace("；", ";").split(";") if a.strip()]
    if accs and kind != "service":
        p.err(file, line, _("只有用户接入点可以关联户号（节点 %(id)s）。") % {"id": nid})
        return
    p.nodes.append(
        {
            "file": file,
            "line": line,
            "id": nid[:40],
            "kind": kind,
            "name": str(props.get("name") or "")[:100],
            "lon": lon,
            "lat": lat,
            "accounts": accs,
        }
    )


def parse_geojson(data: bytes | str) -> Parsed:
    p = Parsed()
    try:
        doc = json.loads(_text(data))
        features = doc["features"]
        if not isinstance(features, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        p.err("geojson", 0, _("不是有效的 GeoJSON FeatureCollection。"))
        return p
    for i, f in enumerate(features, start=1):
        try:
            geom = f.get("geometry") or {}
            props = f.get("properties") or {}
            gtype = geom.get("type")
            if not isinstance(props, dict):
                raise AttributeError
            coords = None
            if gtype == "Point":
                c = geom.get("coordinates") or [None, None]
                coords = (c[0], c[1]) if isinstance(c, list) and len(c) >= 2 else (None, None)
        except (AttributeError, TypeError, KeyError):
            p.err("geojson", i, _("第 %(i)s 个要素格式有误。") % {"i": i})
            continue
        if gtype == "Point":
            _node(p, "geojson", i, props, coords=coords)
        elif gtype == "LineString":
            p.edges.append(
                {
                    "file": "geojson",
                    "line": i,
                    "id": str(props.get("id") or "").strip(),
                    "a": str(props.get("from") or "").strip(),
                    "b": str(props.get("to") or "").strip(),
                }
            )
        else:
            p.err("geojson", i, _("第 %(i)s 个要素的几何类型应为 Point 或 LineString。") % {"i": i})
    return p


def validate(p: Parsed, company_id: int) -> dict[str, int]:
    """Check the parsed lines against each other and the company's customers; returns the
    premise id of every account named. Errors go to `p.errors`."""
    seen: dict[str, int] = {}
    for n in p.nodes:
        if n["id"] in seen:
            p.err(
                n["file"],
                n["line"],
                _("节点编号 %(id)s 重复（第 %(l)s 行已有）。") % {"id": n["id"], "l": seen[n["id"]]},
            )
        else:
            seen[n["id"]] = n["line"]
    edge_seen: dict[str, int] = {}
    degree: dict[str, int] = {}
    for e in p.edges:
        if not e["id"]:
            p.err(e["file"], e["line"], _("管段缺少编号 id。"))
            continue
        if e["id"] in edge_seen:
            p.err(e["file"], e["line"], _("管段编号 %(id)s 重复。") % {"id": e["id"]})
        edge_seen[e["id"]] = e["line"]
        for end in ("a", "b"):
            if e[end] not in seen:
                p.err(
                    e["file"],
                    e["line"],
                    _("管段 %(id)s 连接的节点“%(n)s”不存在（悬空管段）。") % {"id": e["id"], "n": e[end]},
                )
            else:
                degree[e[end]] = degree.get(e[end], 0) + 1
        if e["a"] == e["b"]:
            p.err(e["file"], e["line"], _("管段 %(id)s 的两端是同一个节点。") % {"id": e["id"]})
    for n in p.nodes:
        if n["kind"] == "valve" and not degree.get(n["id"]):
            p.err(n["file"], n["line"], _("阀门 %(id)s 不在任何管段上。") % {"id": n["id"]})
    accounts = {a for n in p.nodes for a in n["accounts"]}
    premise_of: dict[str, int] = {}
    acc_list = list(accounts)
    for i in range(0, len(acc_list), 900):
        for acc, pid in Customer.objects.filter(
            company_id=company_id, account_no__in=acc_list[i : i + 900], premise__isnull=False
        ).values_list("account_no", "premise_id"):
            premise_of[acc] = pid
    for n in p.nodes:
        for a in n["accounts"]:
            if a not in premise_of:
                p.err(n["file"], n["line"], _("户号 %(a)s 不存在或没有用气地址。") % {"a": a})
    return premise_of


def network_import(*, by, fmt: str, nodes=None, edges=None, geojson=None) -> NetworkImport:
    """Validate and, when every line is valid, replace the company's network. The report row is
    written either way (errors listed per line)."""
    assert_perm(by, Perm.OUTAGE_PLAN)
    if fmt == "csv":
        if nodes is None or edges is None:
            raise DomainError(_("CSV 导入需要节点文件和管段文件。"), field="nodes")
        p = parse_csv(nodes, edges)
    elif fmt == "geojson":
        if geojson is None:
            raise DomainError(_("请上传 GeoJSON 文件。"), field="geojson")
        p = parse_geojson(geojson)
    else:
        raise DomainError(_("格式应为 csv 或 geojson。"), field="fmt")
    premise_of = validate(p, by.company_id)
    company_id = by.company_id
    run = NetworkImport(company_id=company_id, by=by, fmt=fmt, nodes=len(p.nodes), edges=len(p.edges))
    if p.errors:
        run.errors = p.errors
        run.save()
        return run
    with transaction.atomic():
        NetworkPremise.objects.filter(node__company_id=company_id).delete()
        NetworkEdge.objects.filter(company_id=company_id).delete()
        NetworkNode.objects.filter(company_id=company_id).delete()
        NetworkNode.objects.bulk_create(
            [
                NetworkNode(
                    company_id=company_id,
                    ext_id=n["id"],
                    kind=n["kind"],
                    name=n["name"],
                    lon=n["lon"],
                    lat=n["lat"],
                )
                for n in p.nodes
            ],
            batch_size=2000,
        )
        ids = dict(NetworkNode.objects.filter(company_id=company_id).values_list("ext_id", "id"))
        NetworkEdge.objects.bulk_create(
            [
                NetworkEdge(company_id=company_id, ext_id=e["id"], a_id=ids[e["a"]], b_id=ids[e["b"]])
                for e in p.edges
            ],
            batch_size=2000,
        )
        links = {(ids[n["id"]], premise_of[a]) for n in p.nodes for a in n["accounts"]}
        NetworkPremise.objects.bulk_create(
            [NetworkPremise(node_id=nid, premise_id=pid) for nid, pid in links], batch_size=2000
        )
        run.ok, run.premises = True, len(links)
        run.save()
    from kefu.outages.selectors import network_cache_clear

    transaction.on_commit(lambda: network_cache_clear(company_id))
    return run
