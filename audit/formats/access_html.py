"""The HTML report's access matrix: per repository or bucket, principal x capability, each cell expanding to the
paths that give it (and showing them on hover), with a filter that answers "who can delete versions in
repository X" (also from the link: `#access-resource=repository:…&access-capability=delete-versions`).
Without JavaScript every row shows and the filter stays hidden."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from ..access_matrix import describe_path
from ..report import Report


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _hops(path: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [path["through"], *path.get("then", ())] if path.get("through") else []


def _cell(capability: str, paths: list[Mapping[str, Any]] | None) -> str:
    if not paths:
        return f'<td class="cap no" data-capability="{_e(capability)}"><span class="muted">·</span></td>'
    described = [describe_path(p) for p in paths]
    conditional = any(p.get("condition") or any(hop.get("condition") for hop in _hops(p)) for p in paths)
    items = "".join(f"<li>{_e(d)}</li>" for d in described)
    mark = "✓*" if conditional else "✓"
    note = '<p class="small muted">* under an IAM condition, which does not make it safe</p>' if conditional else ""
    return (f'<td class="cap yes" data-capability="{_e(capability)}"><details class="paths">'
            f'<summary title="{_e("; ".join(described))}">{mark} <span class="small muted">{len(paths)} path(s)'
            f"</span></summary><ul>{items}</ul>{note}</details></td>")


def _resource(resource: Mapping[str, Any], capabilities: list[Mapping[str, Any]]) -> str:
    head = "".join(f'<th scope="col" data-capability="{_e(c["id"])}">{_e(c["title"])}</th>' for c in capabilities)
    rows = []
    for principal in resource["principals"]:
        held = principal["capabilities"]
        cells = "".join(_cell(c["id"], held.get(c["id"])) for c in capabilities)
        rows.append(f'<tr class="access-row" data-member="{_e(principal["member"])}" '
                    f'data-capabilities="{_e(" ".join(held))}"><th scope="row" class="mono wrap">'
                    f'{_e(principal["member"])}</th>{cells}</tr>')
    body = "".join(rows) or (f'<tr><td colspan="{len(capabilities) + 1}" class="muted">No principal has any '
                             "of these capabilities here.</td></tr>")
    gaps = "".join(f"<li>{_e(g['reason'])}{' (for ' + _e(g['member']) + ')' if g.get('member') else ''}</li>"
                   for g in resource["not_judged"])
    gap_note = (f'<div class="callout warn not-judged"><p><b>Could not judge</b> who can do what here:</p>'
                f"<ul>{gaps}</ul></div>" if gaps else "")
    return (f'<div class="access-resource" data-resource="{_e(resource["resource"])}">'
            f'<h3 class="mono wrap">{_e(resource["kind"])} {_e(resource["name"])}</h3>{gap_note}'
            f'<table class="access-matrix"><thead><tr><th scope="col">Principal</th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


# A page a browser opens quickly: past this many repositories and buckets the JSON report has the rest.
MAX_RESOURCES = 300


def section(report: Report) -> str:
    access = report.access
    if not access:
        return ""
    capabilities = list(access["capabilities"])
    every = list(access["resources"])
    # Those with something to look at first: what could not be judged, then the most principals.
    every.sort(key=lambda r: (not r["not_judged"], -len(r["principals"]), r["resource"]))
    resources = every[:MAX_RESOURCES]
    left_out = len(every) - len(resources)
    resource_options = "".join(f'<option value="{_e(r["resource"])}">{_e(r["kind"])} {_e(r["name"])}</option>'
                               for r in resources)
    capability_options = "".join(f'<option value="{_e(c["id"])}">{_e(c["title"])}</option>' for c in capabilities)
    controls = (
        '<div id="access-filters" class="filters" hidden>'
        f'<label>Repository or bucket <select id="access-resource"><option value="">all</option>{resource_options}'
        "</select></label>"
        f'<label>Who can <select id="access-capability"><option value="">do anything</option>{capability_options}'
        "</select></label>"
        '<span class="muted"><b id="access-count"></b> principal(s) shown</span></div>'
    )
    total = sum(len(r["principals"]) for r in every)
    more = (f'<p class="empty" id="access-left-out">{left_out} more repositories and buckets are not shown here; '
            "the JSON report has the access matrix of every one.</p>" if left_out else "")
    return (f'<section id="access"><h2>Who can do what <span class="muted">({total} principal(s) with access, on '
            f'{len(every)} repositories and buckets)</span></h2><p class="small muted">{_e(access["basis"])}</p>'
            f'{controls}{"".join(_resource(r, capabilities) for r in resources)}{more}</section>')


CSS = """
#access .access-matrix{table-layout:auto;margin-bottom:16px}
#access .access-matrix td.cap{text-align:center;white-space:nowrap}
#access .access-matrix td.cap.yes{background:#fef3f2}
#access details.paths{text-align:left}#access details.paths summary{cursor:pointer}
#access details.paths ul{margin:6px 0;padding-left:18px;white-space:normal;min-width:260px}
#access .access-resource[hidden],#access tr.access-row[hidden]{display:none}
"""

SCRIPT = """
(function(){
  var box=document.getElementById('access-filters'); if(!box) return;
  var res=document.getElementById('access-resource'), cap=document.getElementById('access-capability'),
      count=document.getElementById('access-count');
  var blocks=[].slice.call(document.querySelectorAll('#access .access-resource'));
  function apply(){
    var r=res.value, c=cap.value, n=0;
    blocks.forEach(function(b){
      var show=!r||b.getAttribute('data-resource')===r; b.hidden=!show;
      [].slice.call(b.querySelectorAll('tr.access-row')).forEach(function(tr){
        var ok=show&&(!c||(' '+tr.getAttribute('data-capabilities')+' ').indexOf(' '+c+' ')>=0);
        tr.hidden=!ok; if(ok) n++;
      });
    });
    count.textContent=n;
  }
  function fromHash(){
    var p=new URLSearchParams(location.hash.slice(1));
    if(p.has('access-resource')) res.value=p.get('access-resource');
    if(p.has('access-capability')) cap.value=p.get('access-capability');
    apply();
  }
  [res,cap].forEach(function(el){el.addEventListener('change',function(){
    apply(); var p=new URLSearchParams();
    if(res.value) p.set('access-resource',res.value); if(cap.value) p.set('access-capability',cap.value);
    history.replaceState(null,'',p.toString()?'#'+p.toString():location.pathname+location.search);
  });});
  window.addEventListener('hashchange',fromHash);
  fromHash(); box.hidden=false;
})();
"""
