#!/usr/bin/env python3
"""Reference model of the aggregation (docs/contract.md: "Which report counts", "Output: regional
summary", "Output: alert"; decisions in Schemas/README.md). Written from the contract alone, by
brute force: after every batch it recomputes every summary and every alert scope from the held
reports and emits what changed. Exact arithmetic (int / Fraction). Stdlib only.

Usage: reference_model.py INPUT OUTPUT [RULES]
INPUT:  {"batches": [{"timestamp": str, "updates": [execution update objects]}]}
OUTPUT: [{"outcomes": ["accepted"|"duplicate"|"stale"|"conflicting_revision"],
          "summaries": [{"key", "value"}], "alerts": [{"key", "value"}]}] per batch,
        summary values without computed_at; percentages as exact text "#num:12.1" (see as_number).
RULES:  an alert-rules file replacing Sources/Domain/Resources/alert-rules.json.
Run by Tests/DomainTests/OracleDifferentialTests.swift.
"""
import csv
import json
import os
import sys
from fractions import Fraction

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RES = os.path.join(ROOT, "Sources", "Domain", "Resources")
SOURCES = ("KCQG", "KCDP")
REGIONS = ("bac", "mien-trung-tay-nguyen", "nam")
REGION_NAMES = {
    "bac": "Khu vực phía Bắc",
    "mien-trung-tay-nguyen": "Khu vực miền Trung – Tây Nguyên",
    "nam": "Khu vực phía Nam",
    "ca-nuoc": "Cả nước",
}
CONTRACT_FIELDS = ("schema", "report_id", "province", "fiscal_year", "period_end", "source", "status",
                   "plan_vnd", "executed_vnd", "revision", "reported_at", "advanced_vnd", "activities",
                   "consulting")


# ---------------------------------------------------------------- registries and rules

def load_registries():
    r2004, r2025, absorber = {}, {}, {}
    with open(os.path.join(RES, "provinces-2004.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            r2004[row["code"]] = (row["name"], row["region"])
    with open(os.path.join(RES, "provinces-2025.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            preds = row["predecessors"].split("+")
            r2025[row["code"]] = (row["name"], row["region"], preds)
            for p in preds:
                absorber[p] = row["code"]
    return r2004, r2025, absorber


R2004, R2025, ABSORBER = load_registries()
with open(os.path.join(RES, "alert-rules.json"), encoding="utf-8") as f:
    RULES = json.load(f)


def ym(y, m):
    return "%04d-%02d" % (y, m)


def registry_at(y, m):
    return "2004" if (y, m) <= (2025, 6) else "2025"


def units_of(region, reg):
    table = R2004 if reg == "2004" else R2025
    return sorted(c for c, v in table.items() if region == "ca-nuoc" or v[1] == region)


def unit_name(code, reg):
    return (R2004 if reg == "2004" else R2025)[code][0]


# ---------------------------------------------------------------- numbers

def round_half_away(q):
    """Fraction -> nearest int, halves away from zero."""
    n, d = abs(q.numerator), q.denominator
    r = (2 * n + d) // (2 * d)
    return r if q >= 0 else -r


def hundredths(num, den):
    """num/den*100 rounded to hundredths, as int; None when den is 0."""
    if den == 0:
        return None
    return round_half_away(Fraction(num) * 10000 / den)


def as_number(h):
    """Integer hundredths -> exact decimal text without trailing zeros, marked as a number
    ("#num:12.1"); the test marks the Swift output's fractional numbers the same way, so
    percentages compare exactly, not as doubles."""
    whole, frac = divmod(abs(h), 100)
    text = ("-" if h < 0 else "") + str(whole) + ((".%02d" % frac).rstrip("0") if frac else "")
    return "#num:" + text


def pct(num, den):
    h = hundredths(num, den)
    return None if h is None else as_number(h)


def pct_of(q):
    """A percentage given exactly (Fraction) -> rounded to hundredths."""
    return None if q is None else as_number(round_half_away(q * 100))


def vn_number(h):
    """Hundredths as Vietnamese text: 1234567 -> "12.345,67"."""
    sign = "-" if h < 0 else ""
    h = abs(h)
    whole, frac = divmod(h, 100)
    s = str(whole)
    groups = []
    while len(s) > 3:
        groups.insert(0, s[-3:])
        s = s[:-3]
    groups.insert(0, s)
    return "%s%s,%02d" % (sign, ".".join(groups), frac)


# ---------------------------------------------------------------- state

class Model:
    def __init__(self):
        self.held = {}      # revision key -> (revision, content, update)
        self.accepted = {}  # revision key -> number of accepted revisions
        self.emitted = {}   # summary key -> content last emitted
        self.alerts = {}    # alert id -> dict(severity, month, raised_at)
        self.index = {}     # (province, year, source) -> set of (period_end, status): lookups only
        self.periods = set()  # (year, period_end, province) with some report

    # ---- which report counts
    def apply(self, u):
        key = (u["province"], u["fiscal_year"], u["source"], u["period_end"], u["status"])
        content = json.dumps({k: u[k] for k in CONTRACT_FIELDS if k in u}, sort_keys=True)
        r = u["revision"]
        if key in self.held:
            h, hc, _ = self.held[key]
            if r < h:
                return "stale"
            if r == h:
                return "duplicate" if hc == content else "conflicting_revision"
        self.held[key] = (r, content, u)
        self.index.setdefault(key[:3], set()).add(key[3:])
        self.periods.add((key[1], key[3], key[0]))
        self.accepted[key] = self.accepted.get(key, 0) + 1
        return "accepted"

    # ---- current reports
    def current(self, p, y, s, lo, hi):
        """The current report of unit code p for (y, s) among period_end in [lo, hi]: greatest
        period_end, actual before estimate. Returns the update dict or None."""
        best = None
        for pe, st in self.index.get((p, y, s), ()):
            if not (lo <= pe <= hi):
                continue
            rank = (pe, st == "actual")
            if best is None or rank > best:
                best = rank
        return None if best is None else self.held[(p, y, s, best[0], "actual" if best[1] else "estimate")][2]

    def figure(self, p, y, s, month_ym, reg):
        """Unit p's figure for source s at (y, month): dict(plan, executed, advanced, period_end,
        estimate, reports) or None. Handles FY2025 H2 predecessors."""
        if y == 2025 and reg == "2025":
            own = self.current(p, y, s, "2025-07", month_ym)
            if own is not None:
                return self._fig([own])
            preds = [self.current(q, y, s, "0000-00", "2025-06") for q in R2025[p][2]]
            preds = [r for r in preds if r is not None]
            return self._fig(preds) if preds else None
        own = self.current(p, y, s, "0000-00", month_ym)
        return None if own is None else self._fig([own])

    @staticmethod
    def _fig(reports):
        adv = [r["advanced_vnd"] for r in reports if "advanced_vnd" in r]
        return {
            "plan": sum(r["plan_vnd"] for r in reports),
            "executed": sum(r["executed_vnd"] for r in reports),
            "advanced": sum(adv) if adv else None,
            "period_end": max(r["period_end"] for r in reports),
            "estimate": any(r["status"] == "estimate" for r in reports),
        }

    # ---- summaries
    def summary_exists(self, region, y, m):
        reg = registry_at(y, m)
        return any((y, ym(y, m), p) in self.periods for p in units_of(region, reg))

    def maps_into(self, p, pe, region, reg):
        """Does a report of code p at period pe count towards region under registry reg?"""
        if reg == "2004":
            r = R2004.get(p, (None, None))[1]
        elif pe <= "2025-06":
            r = R2025[ABSORBER[p]][1] if p in ABSORBER else None
        else:
            r = R2025.get(p, (None, None, None))[1]
        return r is not None and (region == "ca-nuoc" or r == region)

    def region_figures(self, region, y, m, reg):
        """Per unit of `region` under `reg` (units restated to reg): {code: {source: figure}}."""
        out = {}
        me = ym(y, m)
        if reg == "2025" and registry_at(y, m) == "2004":
            # restatement: 2004 units counted towards the 2025 unit that absorbed them
            for c in units_of(region, "2025"):
                row = {}
                for s in SOURCES:
                    figs = [self.figure(q, y, s, me, "2004") for q in R2025[c][2]]
                    figs = [f for f in figs if f is not None]
                    row[s] = self._merge(figs) if figs else None
                out[c] = row
            return out
        for c in units_of(region, reg):
            out[c] = {s: self.figure(c, y, s, me, reg) for s in SOURCES}
        return out

    @staticmethod
    def _merge(figs):
        adv = [f["advanced"] for f in figs if f["advanced"] is not None]
        return {"plan": sum(f["plan"] for f in figs), "executed": sum(f["executed"] for f in figs),
                "advanced": sum(adv) if adv else None,
                "period_end": max(f["period_end"] for f in figs),
                "estimate": any(f["estimate"] for f in figs)}

    @staticmethod
    def sums(rows):
        """Totals over unit rows: {source|'total': (plan, executed, advanced|None, estimate, counted)}."""
        res = {}
        for s in SOURCES + ("total",):
            plan = exe = 0
            adv = None
            est = False
            counted = 0
            for row in rows.values():
                for ss in SOURCES:
                    if s != "total" and ss != s:
                        continue
                    f = row[ss]
                    if f is None:
                        continue
                    counted += 1
                    plan += f["plan"]
                    exe += f["executed"]
                    if f["advanced"] is not None:
                        adv = (adv or 0) + f["advanced"]
                    est = est or f["estimate"]
            res[s] = (plan, exe, adv, est, counted)
        return res

    def summary(self, region, y, m):
        reg = registry_at(y, m)
        me = ym(y, m)
        rows = self.region_figures(region, y, m, reg)
        tot = self.sums(rows)
        provinces, missing = [], []
        reported = carried = 0
        for c, row in rows.items():
            figs = [row[s] for s in SOURCES if row[s] is not None]
            if not figs:
                missing.append(c)
                rm, st, car = None, None, False
            else:
                rm = max(f["period_end"] for f in figs)
                st = "estimate" if any(f["estimate"] for f in figs) else "actual"
                car = rm < me
                if car:
                    carried += 1
                else:
                    reported += 1
            provinces.append({
                "code": c, "name": unit_name(c, reg), "report_month": rm, "status": st, "carried": car,
                "by_source": {s: None if row[s] is None else {
                    "plan_vnd": row[s]["plan"], "executed_vnd": row[s]["executed"],
                    "execution_rate_pct": pct(row[s]["executed"], row[s]["plan"]),
                    "period_end": row[s]["period_end"],
                    "status": "estimate" if row[s]["estimate"] else "actual"} for s in SOURCES},
            })

        def block(s):
            plan, exe, adv, _, _ = tot[s]
            b = {"plan_vnd": plan, "executed_vnd": exe, "advanced_vnd": adv, "execution_rate_pct": pct(exe, plan)}
            if s != "total":
                b["share_of_region_executed_pct"] = pct(exe, tot["total"][1])
            return b

        out = {
            "schema": "khuyencong.regional-summary.v1", "region": region, "region_name": REGION_NAMES[region],
            "fiscal_year": y, "period_end": me, "registry": reg,
            "provinces_expected": len(rows), "provinces_reported": reported, "provinces_carried": carried,
            "provinces_missing": missing,
            "status": "estimate" if tot["total"][3] else "actual",
            "totals": block("total"), "by_source": {s: block(s) for s in SOURCES},
            "same_period_last_year": self.last_year(region, y, m, reg, tot),
            "provinces": provinces,
        }
        if region == "ca-nuoc":
            nat = tot
            regs = []
            for r in REGIONS:
                rt = self.sums(self.region_figures(r, y, m, reg))
                regs.append({"region": r,
                             "totals": {"executed_vnd": rt["total"][1], "plan_vnd": rt["total"][0],
                                        "share_of_national_executed_pct": pct(rt["total"][1], nat["total"][1])},
                             "by_source": {s: {"executed_vnd": rt[s][1], "plan_vnd": rt[s][0],
                                               "share_of_national_executed_pct": pct(rt[s][1], nat[s][1])}
                                           for s in SOURCES}})
            out["regions"] = regs
        out["revision"] = self.revision(region, y, m, reg)
        return out

    def last_year(self, region, y, m, reg, tot):
        py = y - 1
        if not any(yy == py and pe <= ym(py, m) and self.maps_into(p, pe, region, reg)
                   for (p, yy, _, pe, _) in self.held):
            return None
        prev = self.sums(self.region_figures(region, py, m, reg))

        def rate(plan, exe):
            return None if plan == 0 else Fraction(exe * 100, plan)

        def block(s):
            pplan, pexe = prev[s][0], prev[s][1]
            cplan, cexe = tot[s][0], tot[s][1]
            prate, crate = rate(pplan, pexe), rate(cplan, cexe)
            return {"plan_vnd": pplan, "executed_vnd": pexe, "execution_rate_pct": pct(pexe, pplan),
                    "executed_change_pct": pct(cexe - pexe, pexe),
                    "rate_change_pct": None if not prate or crate is None else pct_of((crate - prate) * 100 / prate)}

        return {"totals": block("total"), "by_source": {s: block(s) for s in SOURCES}}

    def revision(self, region, y, m, reg):
        n = 0
        for (p, yy, _, pe, _), count in self.accepted.items():
            if yy in (y, y - 1) and pe <= ym(yy, m) and self.maps_into(p, pe, region, reg):
                n += count
        return n

    def summaries(self):
        years = sorted({k[1] for k in self.held})
        out = []
        for region in REGIONS + ("ca-nuoc",):
            for y in years:
                for m in range(1, 13):
                    if not self.summary_exists(region, y, m):
                        continue
                    s = self.summary(region, y, m)
                    content = dict(s)
                    del content["revision"]
                    key = "%s/%d/%s" % (region, y, ym(y, m))
                    if self.emitted.get(key) != content:
                        self.emitted[key] = content
                        out.append({"key": key, "value": s})
        return out

    # ---- alerts
    def scope_rates(self, scope, y):
        """(M, {source|'total': (plan, executed)}, name, level, code) or None when there is no M."""
        kind, code = scope
        if kind == "province":
            pes = [pe for (p, yy, _, pe, _) in self.held if p == code and yy == y]
            if not pes:
                return None
            me = max(pes)
            m = int(me[5:])
            reg = registry_at(y, m)
            figs = {s: self.figure(code, y, s, me, reg) for s in SOURCES}
            rates = {s: (0, 0) if figs[s] is None else (figs[s]["plan"], figs[s]["executed"]) for s in SOURCES}
            rates["total"] = (sum(r[0] for r in rates.values()), sum(r[1] for r in rates.values()))
            return m, rates, unit_name(code, reg), "province", code
        region = code
        months = [m for m in range(1, 13) if self.summary_exists(region, y, m)]
        if not months:
            return None
        m = max(months)
        tot = self.sums(self.region_figures(region, y, m, registry_at(y, m)))
        rates = {s: (tot[s][0], tot[s][1]) for s in SOURCES + ("total",)}
        if region == "ca-nuoc":
            return m, rates, "Cả nước", "national", "VN"
        return m, rates, REGION_NAMES[region], "region", region

    @staticmethod
    def thresholds(m):
        """The band's thresholds at month m (the band of month m, or None)."""
        return Model.band_thresholds(m, m)

    @staticmethod
    def band_thresholds(band_month, m):
        """Thresholds at month m of the band that holds band_month, or None."""
        for band in RULES["bands"]:
            lo, hi = band["months"]
            if lo <= band_month <= hi:
                base = Fraction(m * 100, 12) if band["basis"] == "pace" else Fraction(100)
                c = Fraction(str(band["critical"]["below_pct"])) * base / 100
                w = Fraction(str(band["warning"]["below_pct"])) * base / 100
                return {"critical": (c, band["critical"]["rule"]), "warning": (w, band["warning"]["rule"])}
        return None

    def alerts_step(self, timestamp):
        years = sorted({k[1] for k in self.held})
        margin = Fraction(str(RULES["recovery_margin_points"]))
        out = []
        for y in years:
            scopes = [("province", p) for p in sorted({k[0] for k in self.held if k[1] == y})]
            scopes += [("region", r) for r in REGIONS + ("ca-nuoc",)]
            for scope in scopes:
                info = self.scope_rates(scope, y)
                if info is None:
                    continue
                m, rates, name, level, code = info
                th = self.thresholds(m)
                for s in SOURCES + ("total",):
                    scope_id = "national" if level == "national" else "%s:%s" % (level, code)
                    aid = "%s/%d/%s" % (scope_id, y, s)
                    prior = self.alerts.get(aid)
                    plan, exe = rates[s]
                    sth = th
                    if plan == 0:
                        if prior is None:
                            continue
                        new = None
                        # resolves even in a month no band evaluates: the last band's levels
                        sth = th or self.band_thresholds(prior["month"], m)
                    else:
                        if th is None:
                            continue
                        rate = Fraction(exe * 100, plan)
                        c, w = th["critical"][0], th["warning"][0]
                        old = prior["severity"] if prior else None
                        if rate < c:
                            new = "critical"
                        elif old is None:
                            new = "warning" if rate < w else None
                        elif old == "critical":
                            new = "critical" if rate < c + margin else ("warning" if rate < w + margin else None)
                        else:
                            new = "warning" if rate < w + margin else None
                    if prior is None and new is None:
                        continue
                    if prior is not None and new == prior["severity"] and m == prior["month"]:
                        continue
                    if prior is None:
                        state, raised_at = "raised", timestamp
                    elif new is None:
                        state, raised_at = "resolved", prior["raised_at"]
                    else:
                        state, raised_at = "updated", prior["raised_at"]
                    sev = new or prior["severity"]
                    alert = self.alert_value(aid, state, sev, level, code, name, y, m, s, plan, exe,
                                             sth, margin, raised_at)
                    out.append({"key": aid, "value": alert})
                    if new is None:
                        del self.alerts[aid]
                    else:
                        self.alerts[aid] = {"severity": new, "month": m, "raised_at": raised_at}
        out.sort(key=lambda a: a["key"])
        return out

    @staticmethod
    def alert_value(aid, state, sev, level, code, name, y, m, s, plan, exe, th, margin, raised_at):
        pace = Fraction(m * 100, 12)
        thr, rule = th[sev] if th else (None, None)
        subject = {"KCQG": "Kinh phí KCQG", "KCDP": "Kinh phí KCĐP", "total": "Tổng kinh phí khuyến công"}[s]
        where = {"province": name, "region": "khu vực" + name[len("Khu vực"):], "national": "cả nước"}[level]
        period = "cả năm %d" % y if m == 12 else "%d tháng đầu năm %d" % (m, y)
        rate_h = hundredths(exe, plan)
        if state == "resolved" and plan == 0:
            msg = "%s %s %s: kế hoạch năm bằng 0, hết cảnh báo" % (subject, where, period)
        elif state == "resolved":
            end = round_half_away((th["warning"][0] + margin) * 100)
            msg = "%s %s %s đạt %s%% kế hoạch năm, đạt ngưỡng kết thúc cảnh báo %s%%; hết cảnh báo" % (
                subject, where, period, vn_number(rate_h), vn_number(end))
        elif Fraction(exe * 100, plan) < thr:
            msg = "%s %s %s đạt %s%% kế hoạch năm, thấp hơn ngưỡng %s%%" % (
                subject, where, period, vn_number(rate_h), vn_number(round_half_away(thr * 100)))
        else:  # kept by the recovery margin (Schemas/README.md): name the level still to reach
            what = "ngưỡng hạ mức cảnh báo" if sev == "critical" else "ngưỡng kết thúc cảnh báo"
            msg = "%s %s %s đạt %s%% kế hoạch năm, chưa đạt %s %s%%" % (
                subject, where, period, vn_number(rate_h), what, vn_number(round_half_away((thr + margin) * 100)))
        return {
            "schema": "khuyencong.alert.v1", "alert_id": aid, "state": state, "severity": sev,
            "scope": {"level": level, "code": code, "name": name},
            "fiscal_year": y, "period_end": ym(y, m), "source": s,
            "execution_rate_pct": None if plan == 0 else as_number(rate_h),
            "expected_rate_pct": pct_of(pace),
            "threshold_pct": None if thr is None else pct_of(thr),
            "rule": rule, "message": msg, "raised_at": raised_at,
        }


def main():
    global RULES
    if len(sys.argv) > 3:  # a rules file replacing the defaults
        with open(sys.argv[3], encoding="utf-8") as f:
            RULES = json.load(f)
    with open(sys.argv[1], encoding="utf-8") as f:
        batches = json.load(f)["batches"]
    model = Model()
    result = []
    for b in batches:
        outcomes = [model.apply(u) for u in b["updates"]]
        result.append({"outcomes": outcomes, "summaries": model.summaries(),
                       "alerts": model.alerts_step(b["timestamp"])})
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
