#!/usr/bin/env python3
"""Helpers of bench/run.sh (Python 3 standard library only).

  bench.py floor-urls BASE PAGE_SIZE OUT_CFG   log in, list every URL the extractor fetches, write a curl config
  bench.py rss-sample PID OUT                  sample VmRSS of PID's looker-load descendant every 50 ms
  bench.py record RUN_DIR KIND N LATENCY_MS CONCURRENCY PAGE_SIZE   parse one run's outputs into RUN_DIR/record.json
  bench.py profile PERF_DIR N                  summarize perf reports into PERF_DIR/profile.md
  bench.py write SECTION RESULTS_MD FILE...    render SECTION (throughput | latency from records, profile from
                                               profile.md), print it, and replace that section of RESULTS_MD
                                               (other text is kept)
"""

import json
import os
import platform
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone

CLIENT_ID = "demo-client-id"
CLIENT_SECRET = "demo-client-secret"

# The extractor's catalogue (crates/looker/src/resource.rs): endpoint, paged, sorts, fixed params.
PAGED = [
    ("/users", "id"),
    ("/looks/search", "id"),
    ("/dashboards/search", "id"),
    ("/folders/search", "id"),
    ("/groups", "id"),
    ("/lookml_models", None),
]
UNPAGED = [
    "/projects",
    "/roles",
    "/scheduled_plans?all_users=true",
    "/connections",
    "/user_attributes",
]

TARGETS = {"wall": 3.0, "cpu": 4.0, "rss_mib": 200.0, "rss_ratio": 1.5, "floor_ratio": 5.0}


# ---------------------------------------------------------------------------------------------- floor


def _get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req) as resp:
        return resp.headers, resp.read()


def floor_urls(base, page_size, out_cfg):
    """Writes a curl config fetching every page and every query id the extractor fetches."""
    api = base.rstrip("/") + "/api/4.0"
    body = urllib.parse.urlencode({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}).encode()
    with urllib.request.urlopen(urllib.request.Request(api + "/login", data=body)) as resp:
        token = json.loads(resp.read())["access_token"]
    urls = []
    for endpoint, sorts in PAGED:
        headers, first = _get(f"{api}{endpoint}?limit=1&offset=0", token)
        total = headers.get("X-Total-Count")
        if total is None:  # not paged by the server: count the whole list
            total = len(json.loads(_get(f"{api}{endpoint}", token)[1]))
        total = int(total)
        # Full pages, then the first short (possibly empty) one: where the extractor stops.
        for offset in range(0, (total // page_size) * page_size + 1, page_size):
            q = {"limit": page_size, "offset": offset}
            if sorts:
                q["sorts"] = sorts
            urls.append(f"{api}{endpoint}?{urllib.parse.urlencode(q)}")
    urls += [api + e for e in UNPAGED]
    # Queries: referenced ids minus those embedded in full objects (crates/looker/src/page.rs).
    referenced, embedded = set(), set()

    def ref(qid):
        if qid not in (None, ""):
            referenced.add(str(qid))

    def emb(query):
        if isinstance(query, dict) and query.get("id") not in (None, ""):
            embedded.add(str(query["id"]))

    for endpoint in ["/looks/search?sorts=id", "/dashboards/search?sorts=id", "/scheduled_plans?all_users=true"]:
        for item in json.loads(_get(api + endpoint, token)[1]):
            ref(item.get("query_id"))
            emb(item.get("query"))
            for el in item.get("dashboard_elements") or []:
                ref(el.get("query_id"))
                emb(el.get("query"))
                for holder in (el.get("result_maker"), el.get("look")):
                    if isinstance(holder, dict):
                        ref(holder.get("query_id"))
                        emb(holder.get("query"))
    fetch = sorted(referenced - embedded, key=lambda s: (len(s), s))
    urls += [f"{api}/queries/{urllib.parse.quote(q)}" for q in fetch]
    with open(out_cfg, "w") as f:
        f.write("silent\nshow-error\n")
        f.write('write-out = "%{http_code} %{size_download}\\n"\n')
        for u in urls:
            f.write(f'url = "{u}"\noutput = "/dev/null"\n')
    print(len(urls), len(fetch))


# ---------------------------------------------------------------------------------------------- rss


def _descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in os.listdir(f"/proc/{p}/task") if os.path.isdir(f"/proc/{p}/task") else []:
            try:
                with open(f"/proc/{p}/task/{task}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                kids = []
            out += kids
            todo += kids
    return out


def rss_sample(pid, out_path, interval=0.05):
    """Every `interval` s until `pid` exits: epoch time and VmRSS (KiB) of its looker-load descendant."""
    pid = int(pid)
    with open(out_path, "w") as out:
        while os.path.exists(f"/proc/{pid}"):
            for child in _descendants(pid):
                try:
                    with open(f"/proc/{child}/comm") as f:
                        if f.read().strip() != "looker-load":
                            continue
                    m = re.search(r"VmRSS:\s+(\d+) kB", _read(f"/proc/{child}/status"))
                except OSError:
                    continue
                if m:
                    out.write(f"{time.time():.3f} {m.group(1)}\n")
            time.sleep(interval)


# ---------------------------------------------------------------------------------------------- record


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _duration(text):
    """Rust Debug durations: 282.65ms, 1.2s, 950µs, 3m5s is not produced."""
    m = re.fullmatch(r"([\d.]+)(ns|µs|us|ms|s)", text)
    if not m:
        return None
    scale = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
    return float(m.group(1)) * scale


def _epoch(rfc3339):
    """Seconds since the epoch of an RFC 3339 UTC timestamp with up to nanoseconds."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]00:00)", rfc3339.strip())
    if not m:
        return float("nan")
    whole = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return whole + (float("0." + m.group(2)) if m.group(2) else 0.0)


def _time_v(text):
    def field(name):
        m = re.search(re.escape(name) + r": (.*)", text)
        return m.group(1).strip() if m else None

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    secs = 0.0
    if wall:
        for part in wall.split(":"):
            secs = secs * 60 + float(part)
    return {
        "wall": secs,
        "user": float(field("User time (seconds)") or 0),
        "sys": float(field("System time (seconds)") or 0),
        "rss_kib": int(field("Maximum resident set size (kbytes)") or 0),
        "exit": int(field("Exit status") or 0),
    }


def _mock_stats(text):
    out = {"requests": None, "max_in_flight": None, "bytes_sent": None, "endpoints": {}, "mean_in_flight": None,
           "storm_429s": 0, "timeline": []}
    m = re.search(r"in flight: mean ([\d.]+) over ([\d.]+) s\s+storm 429s: (\d+)", text)
    if m:
        out["mean_in_flight"], out["active_s"], out["storm_429s"] = float(m.group(1)), float(m.group(2)), int(m.group(3))
    m = re.search(r"^timeline \(second:requests/faulted\):(.*)$", text, re.M)
    if m:
        out["timeline"] = [[int(x) for x in t.split(":")[1].split("/")] for t in m.group(1).split()]
    m = re.search(r"requests: (\d+)\s+max in flight: (\d+).*?bytes sent: (\d+)", text)
    if m:
        out["requests"], out["max_in_flight"], out["bytes_sent"] = map(int, m.groups())
    for line in text.splitlines():
        m = re.fullmatch(r"\s+(\d+)\s+(\S+ \S+)", line)
        if m:
            out["endpoints"][m.group(2)] = int(m.group(1))
    return out


def record(run_dir, kind, n, latency_ms, concurrency, page_size):
    rec = {
        "kind": kind,
        "n": int(n),
        "latency_ms": int(latency_ms),
        "concurrency": int(concurrency),
        "page_size": int(page_size),
        "load_avg": _read(os.path.join(run_dir, "loadavg")).strip(),
    }
    rec.update(_time_v(_read(os.path.join(run_dir, "time.txt"))))
    rec["cpu"] = rec["user"] + rec["sys"]
    out, err = _read(os.path.join(run_dir, "run.out")), _read(os.path.join(run_dir, "run.err"))
    m = re.search(r"Extract and normalize: ([\d.]+) s; load: ([\d.]+) s; (\d+) requests, (\d+) retries", out)
    if m:
        rec["extract_normalize_s"], rec["load_s"] = float(m.group(1)), float(m.group(2))
        rec["client_requests"], rec["retries"] = int(m.group(3)), int(m.group(4))
    m = re.search(r"load step completed in ([\d.]+) seconds", out)
    rec["pipeline_s"] = float(m.group(1)) if m else None
    m = re.search(r"extract finished in (\S+)", err)
    rec["extract_s"] = _duration(m.group(1)) if m else None
    m = re.search(r"extract finished in \S+ requests=(\d+) retries=(\d+)", err)
    if m and "retries" not in rec:
        rec["client_requests"], rec["retries"] = int(m.group(1)), int(m.group(2))
    try:
        with open(os.path.join(run_dir, "pipelines", "looker_data_pipeline", "trace.json")) as f:
            trace = json.load(f)
        steps = {s["step"]: s for s in trace.get("steps", [])}
        ex, no, lo = steps.get("extract", {}), steps.get("normalize", {}), steps.get("load", {})
        rec["json_bytes"] = ex.get("bytes", 0)
        rec["items"] = sum(ex.get("rows", {}).values())
        rec["normalize_s"] = no.get("duration_secs")
        rec["rows"] = sum(lo.get("rows", {}).values())
        rec["tables"] = len(lo.get("rows", {}))
        rec["trace_load_s"] = lo.get("duration_secs")
        # Process start → trace start, and trace end → process exit (the harness's clock readings).
        started, ended = _read(os.path.join(run_dir, "started")), _read(os.path.join(run_dir, "ended"))
        if started and ended and trace.get("finished_at"):
            rec["before_s"] = _epoch(trace["started_at"]) - float(started)
            rec["after_s"] = float(ended) - _epoch(trace["finished_at"])
        rec["rss_phases"] = _rss_phases(run_dir)
    except (OSError, ValueError):
        rec.update(json_bytes=0, items=0, rows=0, tables=0)
    rec["mock"] = _mock_stats(_read(os.path.join(run_dir, "mock.err")))
    minimum = _read(os.path.join(run_dir, "minimum.txt")).split()
    if minimum:
        # Every page and every query id embedded nowhere, plus login and logout.
        rec["min_requests"] = int(minimum[0]) + 2
    rec["storm"] = _read(os.path.join(run_dir, "storm.txt")).strip() or None
    rec["exit_ok"] = rec.get("exit", 1) == 0
    floor = _read(os.path.join(run_dir, "floor.txt")).split()
    if len(floor) == 3:
        rec["floor"] = {"secs": float(floor[0]), "bytes": int(floor[1]), "requests": int(floor[2])}
    with open(os.path.join(run_dir, "record.json"), "w") as f:
        json.dump(rec, f, indent=1)


# ---------------------------------------------------------------------------------------------- profile


def _lib(dso):
    name = os.path.basename(dso.strip("()"))
    if name.startswith("looker-load"):
        return "looker-load"
    if name.startswith("libduckdb"):
        return "libduckdb"
    if name.startswith("libc.so") or name.startswith("libstdc++") or name.startswith("libm.so"):
        return "libc/libstdc++"
    if "kernel" in name:
        return "kernel"
    return "other"


def _rss_phases(run_dir):
    """Peak sampled RSS (MiB) in each phase of _phases."""
    samples = []
    for line in _read(os.path.join(run_dir, "rss.txt")).splitlines():
        parts = line.split()
        if len(parts) == 2:
            samples.append((float(parts[0]), int(parts[1])))
    try:
        phases = _phases(run_dir)
    except (OSError, ValueError, KeyError):
        return {}
    out = {}
    for name, a, b in phases:
        inside = [kib for ts, kib in samples if a <= ts < b]
        out[name] = round(max(inside) / 1024) if inside else None
    return out


def _phases(run_dir):
    """(name, start, end) in epoch seconds, from the harness's clock readings and trace.json."""
    started, ended = float(_read(os.path.join(run_dir, "started"))), float(_read(os.path.join(run_dir, "ended")))
    with open(os.path.join(run_dir, "pipelines", "looker_data_pipeline", "trace.json")) as f:
        trace = json.load(f)
    steps = {st["step"]: st for st in trace["steps"]}
    t0, t3 = _epoch(trace["started_at"]), _epoch(trace["finished_at"])
    ex_start = _epoch(steps["extract"]["started_at"])
    ex_end = ex_start + steps["extract"]["duration_secs"]
    lo_start = _epoch(steps["load"]["started_at"])
    lo_end = lo_start + steps["load"]["duration_secs"]
    return [
        ("start-up (process start → trace start)", started, t0),
        ("pending-work checks (trace start → extract)", t0, ex_start),
        ("extract + normalize (streaming)", ex_start, ex_end),
        ("load into DuckDB", max(ex_end, lo_start), lo_end),
        ("trace end (load end → trace written)", lo_end, t3),
        ("exit (trace written → process exit)", t3, ended),
    ]


def profile(report_dir, n):
    """perf samples bucketed by pipeline phase and library, plus the top symbols → profile.md."""
    t = _time_v(_read(os.path.join(report_dir, "time.txt")))
    hz = 999.0
    phases = _phases(report_dir)
    libs = ["looker-load", "libduckdb", "libc/libstdc++", "kernel", "other"]
    cpu = [{lib: 0 for lib in libs} for _ in phases]
    syms = [{} for _ in phases]
    sample = re.compile(r"\s*(.+?)\s+(\d+)\s+([\d.]+):\s+[0-9a-f]+\s+(.*?)\s+(\([^()]*\))\s*$")
    for line in _read(os.path.join(report_dir, "samples.txt")).splitlines():
        m = sample.match(line)
        if not m:
            continue
        ts = float(m.group(3))
        for i, (_, a, b) in enumerate(phases):
            if a <= ts < b or (i == len(phases) - 1 and ts >= b):
                lib = _lib(m.group(5))
                cpu[i][lib] += 1
                key = f"{lib}: {m.group(4)[:110]}"
                syms[i][key] = syms[i].get(key, 0) + 1
                break
    lines = [
        f"N={int(n):,}, an extra run under `perf record -e cpu-clock -F 999 --clockid realtime` (this VM exposes "
        f"no hardware counters): wall {t['wall']:.2f} s, CPU {t['user'] + t['sys']:.2f} s, peak RSS "
        f"{t['rss_kib'] / 1024:.0f} MiB under perf. Samples are bucketed by the phase they fall in (phase "
        "boundaries from trace.json); CPU s = samples ÷ 999 Hz; peak RSS from VmRSS sampled every 50 ms. The mock runs in its own process and is not "
        "sampled.",
        "",
        "| phase | wall s | CPU s | peak RSS MiB | " + " | ".join(libs) + " |",
        "|---|---|---|---|" + "---|" * len(libs),
    ]
    rss = _rss_phases(report_dir)
    for (name, a, b), c in zip(phases, cpu):
        total = sum(c.values())
        peak = rss.get(name)
        lines.append(
            f"| {name} | {max(b - a, 0):.2f} | {total / hz:.2f} | {'–' if peak is None else peak} | "
            + " | ".join(f"{c[lib] / hz:.2f}" for lib in libs)
            + " |"
        )
    for (name, _, _), sy in zip(phases, syms):
        total = sum(sy.values())
        if total < hz * 0.05:
            continue
        lines += ["", f"Top symbols, {name} ({total / hz:.2f} CPU s):", "", "```"]
        for key, count in sorted(sy.items(), key=lambda kv: -kv[1])[:12]:
            lines.append(f"{100 * count / total:5.1f}%  {key}")
        lines.append("```")
    lines.append("")
    with open(os.path.join(report_dir, "profile.md"), "w") as f:
        f.write("\n".join(lines))


# ---------------------------------------------------------------------------------------------- write


def _f(x, digits=2):
    return "–" if x is None else f"{x:.{digits}f}"


def _machine():
    cpu = "unknown"
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = re.search(r"MemTotal:\s+(\d+) kB", _read("/proc/meminfo"))
    mem_gib = int(mem.group(1)) / 1024 / 1024 if mem else 0

    def git(*args):
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem_gib:.1f} GiB RAM, Linux {platform.release()}; "
        f"commit {commit}{' with uncommitted changes in the tree' if dirty else ''}"
    )


def _verdict(value, limit):
    if value is None:
        return "–"
    return "met" if value <= limit else "**missed**"


def _split(r):
    if r.get("before_s") is None:
        return ""
    return f" (start {r['before_s']:.2f}, exit {r['after_s']:.2f})"


def throughput_section(recs):
    recs = sorted(recs, key=lambda r: r["n"])
    out = [
        "| N users (looks, dashboards) | JSON MB | rows (tables) | requests | wall s | CPU s (user+sys) "
        "| peak RSS MiB | JSON MB/s | rows/s | extract s | extract+normalize s | load s | other s "
        "| download floor s | wall ÷ floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in recs:
        mb = r["json_bytes"] / 1e6
        floor = r.get("floor", {}).get("secs")
        other = r["wall"] - r["pipeline_s"] if r.get("pipeline_s") is not None else None
        out.append(
            f"| {r['n']:,} ({r['n'] // 10:,}, {r['n'] // 20:,}) | {mb:.1f} | {r['rows']:,} ({r['tables']}) "
            f"| {r['mock']['requests'] or '–'} | {_f(r['wall'])} | {_f(r['cpu'])} ({_f(r['user'])}+{_f(r['sys'])}) "
            f"| {r['rss_kib'] / 1024:.0f} | {mb / r['wall']:.0f} | {r['rows'] / r['wall']:,.0f} "
            f"| {_f(r.get('extract_s'))} | {_f(r.get('extract_normalize_s'))} | {_f(r.get('load_s'))} "
            f"| {_f(other)}{_split(r)} | {_f(floor)} | {_f(r['wall'] / floor if floor else None, 1)} |"
        )
    out += [
        "",
        "*extract*: the extractor alone (HTTP and parsing, from its log line); *extract+normalize*: the "
        "streaming step until the load package is written (the two overlap); *load*: into DuckDB; "
        "*other*: the rest of the process wall time: from process start to the trace's start (start-up, "
        "configuration, pending-work checks) and from the trace's end to process exit (dropping the "
        "destination, closing DuckDB). "
        "*Download floor*: one keep-alive curl fetching the same pages and query ids, nothing parsed "
        "(with its login).",
        "",
        "Floor detail: "
        + "; ".join(
            f"N={r['n']:,}: {r['floor']['requests']} requests, {r['floor']['bytes'] / 1e6:.1f} MB in "
            f"{r['floor']['secs']:.2f} s ({r['floor']['bytes'] / 1e6 / r['floor']['secs']:.0f} MB/s)"
            for r in recs
            if r.get("floor")
        )
        + ".",
        "",
        "Peak RSS by phase (VmRSS sampled every 50 ms; MiB): "
        + "; ".join(
            f"N={r['n']:,}: "
            + ", ".join(f"{name.split(' (')[0]} {v}" for name, v in r["rss_phases"].items() if v is not None)
            for r in recs
            if r.get("rss_phases")
        )
        + ".",
        "",
        "Load average when each run started: "
        + "; ".join(f"N={r['n']:,}: {r['load_avg'] or '–'}" for r in recs)
        + ".",
        "",
    ]
    big = next((r for r in recs if r["n"] == 100_000), None)
    small = next((r for r in recs if r["n"] == 10_000), None)
    if big:
        out += ["Targets (issue 04), N=100,000:", "", "| target | measured | verdict |", "|---|---|---|"]
        out.append(f"| wall ≤ {TARGETS['wall']} s | {_f(big['wall'])} s | {_verdict(big['wall'], TARGETS['wall'])} |")
        out.append(f"| CPU ≤ {TARGETS['cpu']} s | {_f(big['cpu'])} s | {_verdict(big['cpu'], TARGETS['cpu'])} |")
        rss = big["rss_kib"] / 1024
        out.append(f"| peak RSS ≤ {TARGETS['rss_mib']:.0f} MB | {rss:.0f} MiB | {_verdict(rss, TARGETS['rss_mib'])} |")
        if small:
            ratio = big["rss_kib"] / small["rss_kib"]
            out.append(
                f"| RSS(100k) ≤ {TARGETS['rss_ratio']}× RSS(10k) | {ratio:.2f}× "
                f"({rss:.0f} / {small['rss_kib'] / 1024:.0f} MiB) | {_verdict(ratio, TARGETS['rss_ratio'])} |"
            )
        for r in recs:
            if r.get("floor"):
                ratio = r["wall"] / r["floor"]["secs"]
                out.append(
                    f"| wall ≤ {TARGETS['floor_ratio']:.0f}× download floor (N={r['n']:,}) | {ratio:.1f}× "
                    f"({_f(r['wall'])} / {_f(r['floor']['secs'])} s) | {_verdict(ratio, TARGETS['floor_ratio'])} |"
                )
        out.append("")
    return out


def _lat_row(r):
    req = r["mock"]["requests"] or 0
    bound = req * r["latency_ms"] / 1000 / r["concurrency"]
    seq = req * r["latency_ms"] / 1000
    return req, bound, seq


def latency_section(recs):
    recs = sorted(recs, key=lambda r: (r["n"], r["latency_ms"], r["concurrency"]))
    out = [
        "| N users | delay ms | concurrency | page size | requests | minimum requests | max in flight | mean in flight "
        "| wall s | extract s | lower bound s | wall ÷ lower bound | extract ÷ lower bound | sequential client s "
        "| speed-up vs sequential (wall) | speed-up vs sequential (extract) | CPU s | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in recs:
        req, bound, seq = _lat_row(r)
        ex = r.get("extract_s")
        out.append(
            f"| {r['n']:,} | {r['latency_ms']} | {r['concurrency']} | {r['page_size']} | {req:,} "
            f"| {r.get('min_requests', 0):,} | {r['mock']['max_in_flight']} | {_f(r['mock'].get('mean_in_flight'))} "
            f"| {_f(r['wall'])} | {_f(ex)} | {_f(bound)} | {_f(r['wall'] / bound if bound else None)} "
            f"| {_f(ex / bound if bound and ex else None)} | {_f(seq, 1)} "
            f"| {_f(seq / r['wall'] if r['wall'] else None, 1)} | {_f(seq / ex if ex else None, 1)} "
            f"| {_f(r['cpu'])} | {r['rss_kib'] / 1024:.0f} |"
        )
    out += [
        "",
        "*requests*, *max in flight*, *mean in flight*: counted by the mock (login and logout included; mean = "
        "the sum of the requests' times in flight ÷ the time from the first request to the last answer); "
        "*minimum requests*: every page (up to the first short one) plus every referenced query id embedded in no "
        "fetched object, plus login and logout, computed by `bench.py floor-urls` from the same data; "
        "*lower bound*: requests × delay ÷ concurrency; *extract*: the extractor alone (its log line; the rest of "
        "the wall time is normalize tail, load into DuckDB and closing it); *sequential client*: requests × delay.",
        "",
    ]
    target = sorted(
        (r for r in recs if r["n"] == 10000 and r["latency_ms"] == 50), key=lambda r: r["concurrency"] != 8
    )
    if target:
        r = target[0]
        req, bound, seq = _lat_row(r)
        ex = r.get("extract_s") or float("nan")
        out += [
            f"Targets (issue 04b), N=10,000 at 50 ms, concurrency {r['concurrency']}:",
            "",
            "| target | measured | verdict |",
            "|---|---|---|",
            f"| wall ≤ 1.5× lower bound | {r['wall'] / bound:.2f}× ({r['wall']:.2f} / {bound:.2f} s) "
            f"| {_verdict(r['wall'] / bound, 1.5)} |",
            f"| extract ≤ 1.5× lower bound | {ex / bound:.2f}× ({ex:.2f} / {bound:.2f} s) | {_verdict(ex / bound, 1.5)} |",
            f"| ≥ 10× faster than a sequential client (wall) | {seq / r['wall']:.1f}× ({seq:.1f} / {r['wall']:.2f} s) "
            f"| {_verdict(10, seq / r['wall'])} |",
            f"| ≥ 10× faster than a sequential client (extract) | {seq / ex:.1f}× ({seq:.1f} / {ex:.2f} s) "
            f"| {_verdict(10, seq / ex)} |",
            f"| requests ≤ pages + objects embedded nowhere | {req:,} ≤ {r.get('min_requests', 0):,} "
            f"| {_verdict(req, r.get('min_requests', 0))} |",
            f"| never more than {r['concurrency']} in flight | max {r['mock']['max_in_flight']} "
            f"| {_verdict(r['mock']['max_in_flight'], r['concurrency'])} |",
            "",
        ]
    endpoints = sorted({e for r in recs for e in r["mock"]["endpoints"]}, key=lambda e: (e.split()[1], e))
    out.append("Requests per endpoint:")
    out.append("")
    out.append(
        "| endpoint | "
        + " | ".join(f"N={r['n']:,}, {r['latency_ms']} ms, conc. {r['concurrency']}" for r in recs)
        + " |"
    )
    out.append("|---|" + "---|" * len(recs))
    for e in endpoints:
        out.append(f"| `{e}` | " + " | ".join(str(r["mock"]["endpoints"].get(e, 0)) for r in recs) + " |")
    out += [
        "",
        "Load average when each run started: "
        + "; ".join(
            f"N={r['n']:,}/{r['latency_ms']} ms/conc. {r['concurrency']}: {r['load_avg'] or '–'}" for r in recs
        )
        + ".",
        "",
    ]
    return out


def pagesize_section(recs):
    recs = sorted(recs, key=lambda r: (r["n"], r["latency_ms"], r["page_size"]))
    out = [
        "| N users | delay ms | page size | requests | wall s | extract s | extract ÷ lower bound | CPU s "
        "| peak RSS MiB | load average |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in recs:
        req, bound, _ = _lat_row(r)
        ex = r.get("extract_s")
        out.append(
            f"| {r['n']:,} | {r['latency_ms']} | {r['page_size']} | {req:,} | {_f(r['wall'])} | {_f(ex)} "
            f"| {_f(ex / bound if bound and ex else None)} | {_f(r['cpu'])} | {r['rss_kib'] / 1024:.0f} "
            f"| {r['load_avg'] or '–'} |"
        )
    out.append("")
    return out


def storm_section(recs):
    out = []
    for r in sorted(recs, key=lambda r: (r.get("storm") is not None, r["n"])):
        spec = r.get("storm")
        tl = r["mock"]["timeline"]
        label = f"N={r['n']:,}, {r['latency_ms']} ms, concurrency {r['concurrency']}"
        if not spec:
            out.append(
                f"Calm run ({label}): wall {r['wall']:.2f} s, extract {_f(r.get('extract_s'))} s, "
                f"{r['mock']['requests']:,} requests, {r.get('items', 0):,} items, {r.get('rows', 0):,} rows loaded."
            )
            out.append("")
            continue
        m = re.fullmatch(r"(\d+)%:([\d.]+)(ms|s)?(?:@([\d.]+)(ms|s)?)?(?::.*)?", spec)
        scale = lambda v, u: float(v) / (1000 if u == "ms" else 1)
        start = scale(m.group(4), m.group(5)) if m and m.group(4) else 0.0
        dur = scale(m.group(2), m.group(3)) if m else 0.0
        phases = {"before": [], "during": [], "after": []}
        for sec, (reqs, faulted) in enumerate(tl):
            # A second belongs to a phase when it lies wholly inside it; the last second is partial.
            if sec == len(tl) - 1:
                continue
            if sec + 1 <= start:
                phases["before"].append((reqs, faulted))
            elif sec >= start and sec + 1 <= start + dur:
                phases["during"].append((reqs, faulted))
            elif sec >= start + dur:
                phases["after"].append((reqs, faulted))

        def rate(xs, i):
            return f"{sum(x[i] for x in xs) / len(xs):.1f}" if xs else "–"

        out += [
            f"Storm run ({label}): `looker-mock --storm {spec}` answers 429 with `Retry-After` to that share of "
            f"all requests during the window (from {start:g} s to {start + dur:g} s after the first request). "
            f"Exit status {r.get('exit', '?')} ({'success' if r.get('exit_ok') else 'FAILED'}); wall {r['wall']:.2f} s, "
            f"extract {_f(r.get('extract_s'))} s; {r['mock']['requests']:,} requests of which "
            f"{r['mock']['storm_429s']:,} answered 429; the client counted {r.get('retries', '–')} retries; "
            f"{r.get('items', 0):,} items extracted, {r.get('rows', 0):,} rows loaded; max in flight "
            f"{r['mock']['max_in_flight']}.",
            "",
            "| phase | whole seconds | requests/s | answered (non-429)/s | 429/s |",
            "|---|---|---|---|---|",
        ]
        for name, xs in phases.items():
            ok = [(a - b, b) for a, b in xs]
            out.append(f"| {name} | {len(xs)} | {rate(xs, 0)} | {rate(ok, 0)} | {rate(xs, 1)} |")
        out += [
            "",
            "Requests per second (second: requests/429s): "
            + " ".join(f"{i}:{a}/{b}" for i, (a, b) in enumerate(tl))
            + ".",
            "",
            f"Load average when it started: {r['load_avg'] or '–'}.",
            "",
        ]
    return out


HEADER = """# looker-load benchmark results

Produced by `just bench` (= `bench/run.sh`; see `bench/run.sh --help`). Workload: the `looker-mock` server as
a separate process (N users, N/10 looks, N/20 dashboards, seed 42), `looker-load run` of all 12 resources
into a fresh DuckDB file under `/usr/bin/time -v`, release build. Sections between `bench:` markers are
rewritten by each run; the rest of this file is kept.
"""


def _fastest(record_paths):
    """One record per (kind, N, delay): the fastest wall, with the wall times of every repeat."""
    groups = {}
    for p in record_paths:
        with open(p) as f:
            rec = json.load(f)
        key = (rec["kind"], rec["n"], rec["latency_ms"], rec["page_size"], rec["concurrency"], rec.get("storm"))
        groups.setdefault(key, []).append(rec)
    out = []
    for runs in groups.values():
        best = min(runs, key=lambda r: r["wall"])
        best["walls"] = sorted(r["wall"] for r in runs)
        floors = [r["floor"]["secs"] for r in runs if r.get("floor")]
        if floors:  # the floor is a separate measurement: its own fastest
            best["floor"] = min((r["floor"] for r in runs if r.get("floor")), key=lambda f: f["secs"])
        out.append(best)
    return out


def _repeats(recs):
    if all(len(r.get("walls", [])) <= 1 for r in recs):
        return []

    def label(r):
        return f"N={r['n']:,}" if r["kind"] == "throughput" else f"N={r['n']:,}/{r['latency_ms']} ms"

    walls = "; ".join(label(r) + ": " + ", ".join(f"{w:.2f}" for w in r["walls"]) for r in recs)
    return [f"Fastest of repeated runs (the download floor too); wall times of every run: {walls} s.", ""]


def write(section, results_md, record_paths):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"Measured {stamp} on {_machine()}.", ""]
    if section == "profile":
        body.append(_read(record_paths[0]))
    else:
        recs = _fastest(record_paths)
        render = {
            "throughput": throughput_section,
            "latency": latency_section,
            "pagesize": pagesize_section,
            "storm": storm_section,
        }[section]
        body += render(recs)
        body += _repeats(recs)
    text = "\n".join(body)
    print(text)
    begin, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    block = f"{begin}\n{text}\n{end}"
    current = _read(results_md) or HEADER
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        tail = rest.split(end, 1)[1]
        current = head + block + tail
    else:
        title = {
            "throughput": "## Throughput (no latency)",
            "latency": "## Latency scenario",
            "profile": "## Profile of the largest throughput run",
            "pagesize": "## Page size (latency scenario)",
            "storm": "## 429 storm",
        }[section]
        current = current.rstrip("\n") + f"\n\n{title}\n\n{block}\n"
    with open(results_md, "w") as f:
        f.write(current)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "floor-urls":
        floor_urls(args[0], int(args[1]), args[2])
    elif cmd == "rss-sample":
        rss_sample(args[0], args[1])
    elif cmd == "record":
        record(*args)
    elif cmd == "profile":
        profile(args[0], args[1])
    elif cmd == "write":
        write(args[0], args[1], args[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
