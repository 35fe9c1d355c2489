"""The page's stylesheet (embedded in the HTML, so the report needs no other file)."""

PAGE_CSS = """
:root { --ink:#1d2330; --muted:#667085; --line:#e3e6ec; --bg:#f6f7f9; --card:#fff;
  --good:#1b7f3b; --bad:#b42318; --warn:#b54708; --accent:#1f5fbf; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width:1120px; margin:0 auto; padding:24px 28px 48px; }
h1 { font-size:26px; margin:0 0 8px; }
h2 { font-size:20px; margin:0 0 10px; padding-bottom:6px; border-bottom:1px solid var(--line); }
h3 { font-size:16px; margin:18px 0 8px; }
h4 { font-size:14px; margin:14px 0 6px; color:#344054; }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
code { font:13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
.muted { color:var(--muted); }
.lede { max-width:880px; margin:0 0 14px; color:#344054; }
.facts { display:grid; grid-template-columns:repeat(auto-fill, minmax(250px, 1fr)); gap:6px 18px;
  margin:0; padding:12px 16px; background:var(--card); border:1px solid var(--line);
  border-radius:10px; }
.facts div { display:flex; gap:8px; align-items:baseline; min-width:0; }
.facts dt { color:var(--muted); font-size:13px; white-space:nowrap; }
.facts dd { margin:0; font-size:14px; overflow-wrap:anywhere; }
.status { font-weight:600; padding:1px 8px; border-radius:10px; font-size:13px; }
.status.finished { background:#dcfae6; color:var(--good); }
.status.running { background:#dbeafe; color:var(--accent); }
.status.failed { background:#fee4e2; color:var(--bad); }
nav { position:sticky; top:0; z-index:5; display:flex; flex-wrap:wrap; gap:4px 16px;
  margin:16px -28px 0; padding:8px 28px; background:rgba(246,247,249,.96);
  border-bottom:1px solid var(--line); font-size:14px; }
section { margin-top:22px; background:var(--card); border:1px solid var(--line);
  border-radius:10px; padding:16px 20px; }
.answers { display:grid; grid-template-columns:repeat(3, 1fr); gap:14px; background:none;
  border:none; padding:0; }
.answer { background:var(--card); border:1px solid var(--line); border-top:5px solid #98a2b3;
  border-radius:10px; padding:12px 16px; }
.answer h3 { margin:0; font-size:14px; color:var(--muted); font-weight:600; }
.answer .verdict { font-size:24px; font-weight:700; margin:2px 0 6px; }
.answer p { margin:0; font-size:14px; }
.answer.good { border-top-color:var(--good); } .answer.good .verdict { color:var(--good); }
.answer.bad { border-top-color:var(--bad); } .answer.bad .verdict { color:var(--bad); }
.answer.warn { border-top-color:var(--warn); } .answer.warn .verdict { color:var(--warn); }
.answer.neutral .verdict { color:#344054; }
@media (max-width: 860px) { .answers { grid-template-columns:1fr; } }
table { border-collapse:collapse; width:100%; margin:10px 0; font-size:14px; }
th, td { padding:5px 10px; border-bottom:1px solid var(--line); text-align:left;
  vertical-align:top; }
th { background:#f2f4f7; font-weight:600; font-size:13px; color:#344054; }
table.num td:not(:first-child):not(:nth-child(2)) { font-variant-numeric:tabular-nums; }
table.transfer th:nth-child(n+5), table.transfer td:nth-child(n+5) { background:#f9fafb;
  color:#475467; }
table.small { width:auto; }
table.circ td:nth-child(n+3), table.usage td:nth-child(n+3),
table.transfer td { white-space:nowrap; }
table.circ td:first-child code { font-size:12px; }
tbody tr:last-child td { border-bottom:none; }
code.hit { color:var(--bad); font-weight:700; }
figure { margin:10px 0; } figure img { max-width:100%; height:auto; display:block; }
figcaption { font-size:12px; color:var(--muted); }
.scroll { overflow-x:auto; padding:4px 0; }
svg.lineage text { font:12px ui-monospace, "DejaVu Sans Mono", monospace; fill:#1d2330; }
svg.lineage text.t1 { font-weight:700; } svg.lineage text.t3 { fill:#475467; font-size:11px; }
svg.lineage a:hover rect { stroke:#1f5fbf; stroke-width:3; }
.legend { font-size:13px; color:var(--muted); }
.sw { display:inline-block; width:14px; height:10px; margin:0 4px 0 12px; border-radius:2px;
  vertical-align:middle; border:1.5px solid #5b6270; }
.sw.best { border:3px solid var(--good); } .sw.rejected { border-style:dashed; }
.sw.fill { background:linear-gradient(90deg, #fccdbe, #fcf0be, #66f0c8); border:none; }
.note { background:#fffaeb; border:1px solid #fedf89; padding:8px 12px; border-radius:8px; }
.tag { display:inline-block; font-size:12px; font-weight:600; padding:0 7px; border-radius:9px;
  background:#eef2f6; color:#344054; }
.tag.adopted, .tag.best { background:#dcfae6; color:var(--good); }
.tag.rejected { background:#fee4e2; color:var(--bad); }
.tag.seed { background:#e0eaff; color:#3538cd; }
.tag.explored, .tag.no { background:#f2f4f7; color:var(--muted); }
.tag.archived { background:#fef0c7; color:#93370d; }
details.program { border:1px solid var(--line); border-radius:8px; margin:6px 0;
  background:#fcfcfd; }
details.program > summary { cursor:pointer; padding:6px 10px; font-size:14px; }
details.program[open] > summary { border-bottom:1px solid var(--line); }
details.program .inner { padding:4px 12px 10px; }
details details > summary { cursor:pointer; font-size:13px; color:var(--accent); margin:8px 0; }
q.idea { font-style:italic; color:#344054; }
.delta { font-variant-numeric:tabular-nums; color:#475467; }
.hl { background:#f8f9fb; border:1px solid var(--line); border-radius:6px; overflow-x:auto; }
.hl pre { margin:0; padding:8px 10px;
  font:12.5px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
footer { margin-top:26px; font-size:12px; color:var(--muted); }
"""
