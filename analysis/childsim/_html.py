"""_html: the pieces of a self-contained HTML page — escaping, number formats, tables, inline
figures and the style sheet of the briefing.

Nothing here loads anything from outside the page: figures are PNG images inlined as base64
``data:`` URLs, the style sheet is inline, and there is no JavaScript.
"""

import base64
import html
import io
import math

__all__ = ["esc", "fmt_count", "fmt_signed", "fmt_interval", "fmt_money", "fmt_share",
           "figure_img", "table", "chip", "PAGE_CSS"]


def esc(text):
    """HTML-escape any value's ``str``."""
    return html.escape(str(text), quote=True)


def _finite(x):
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def fmt_count(x, digits=0):
    """``1,234`` (or ``—`` for NaN)."""
    if not _finite(x):
        return "—"
    if digits == 0 and abs(x) < 10 and x != round(x):
        digits = 1
    return f"{x:,.{digits}f}"


def fmt_signed(x, digits=0):
    """``+1,234`` / ``−56`` (a true minus sign) / ``0``."""
    if not _finite(x):
        return "—"
    if digits == 0 and abs(x) < 10 and abs(x - round(x)) > 1e-9:
        digits = 1
    text = f"{abs(x):,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return "0"
    return ("+" if x > 0 else "−") + text


def fmt_interval(mean, low, high, digits=0):
    """``+12 (+3 to +20)``: a paired difference and its 90 % interval."""
    if not _finite(mean):
        return "—"
    return f"{fmt_signed(mean, digits)} <span class='ci'>({fmt_signed(low, digits)} to {fmt_signed(high, digits)})</span>"


def fmt_money(x):
    """Yuan, rounded for reading: ``¥2.50 m``, ``¥12,300``."""
    if not _finite(x):
        return "—"
    sign = "−" if x < 0 else ""
    x = abs(x)
    if x >= 1e8:
        return f"{sign}¥{x / 1e6:,.0f} m"
    if x >= 1e6:
        return f"{sign}¥{x / 1e6:,.{1 if x >= 1e7 else 2}f} m"
    return f"{sign}¥{x:,.0f}"


def fmt_share(x, digits=0):
    """``81 %``."""
    if not _finite(x):
        return "—"
    return f"{100 * x:.{digits}f} %"


def figure_img(fig, alt, *, dpi=100):
    """A matplotlib Figure as an ``<img>`` with an inline base64 PNG (the figure is closed)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    import matplotlib.pyplot as plt  # lazily: the page builder may run without a display
    plt.close(fig)  # as documented: a long briefing must not pile up open pyplot figures
    return f'<img class="fig" alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def chip(colour, label=""):
    """A small colour swatch (the scenario's colour), with an optional label."""
    swatch = f'<span class="chip" style="background:{esc(colour)}"></span>'
    return swatch + (esc(label) if label else "")


def table(header, rows, *, cls="", id_=None, raw=False, widths=None):
    """An HTML table. ``header`` is a list of cells; ``rows`` a list of lists of cells.

    Cells are escaped unless ``raw`` is true (then they must already be HTML). A cell may
    be a tuple ``(content, class)``. ``widths`` (CSS widths, one per column) fixes the
    column widths.
    """
    def cell(tag, value):
        css = ""
        if isinstance(value, tuple):
            value, klass = value
            css = f' class="{esc(klass)}"'
        content = value if raw else esc(value)
        return f"<{tag}{css}>{content}</{tag}>"

    ident = f' id="{esc(id_)}"' if id_ else ""
    klass = f' class="{esc(cls)}"' if cls else ""
    head = "".join(cell("th", h) for h in header)
    body = "\n".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in rows)
    cols = ""
    if widths:
        cols = "<colgroup>" + "".join(f'<col style="width:{esc(w)}">' for w in widths) + "</colgroup>"
    return (f"<div class=\"scroll\"><table{ident}{klass}>{cols}<thead><tr>{head}</tr></thead>\n"
            f"<tbody>\n{body}\n</tbody></table></div>")


PAGE_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --rule: #d0d7de; --soft: #f6f8fa;
        --accent: #0b5cad; --ok: #1a7f37; --ok-bg: #dafbe1; --late: #7d4e00;
        --late-bg: #fff1c2; --bad: #b3261e; --bad-bg: #ffebe9; --na: #59636e; --na-bg: #eef1f4; }
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; color: var(--ink); background: #fff;
       font-family: "DejaVu Sans", "Noto Sans", "Noto Sans CJK SC", "WenQuanYi Micro Hei",
                    "Microsoft YaHei", "PingFang SC", Arial, sans-serif;
       line-height: 1.5; }
main { max-width: 1200px; margin: 0 auto; padding: 0 28px 48px; }
header.top { background: #0b3d6e; color: #fff; }
header.top .inner { max-width: 1200px; margin: 0 auto; padding: 22px 28px 18px; }
header.top h1 { margin: 0 0 4px; font-size: 1.75rem; font-weight: 700; }
header.top p { margin: 0; color: #d7e6f5; font-size: 0.95rem; }
nav.toc { max-width: 1200px; margin: 0 auto; padding: 8px 28px; font-size: 0.88rem;
          border-bottom: 1px solid var(--rule); }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
h2 { font-size: 1.35rem; margin: 36px 0 8px; padding-top: 8px; border-top: 2px solid var(--ink); }
h3 { font-size: 1.05rem; margin: 22px 0 6px; }
p { margin: 6px 0 10px; max-width: 75em; }
.lead { font-size: 1.08rem; background: #eef5fc; border-left: 5px solid var(--accent);
        padding: 14px 18px; margin: 20px 0 8px; }
.lead p { margin: 4px 0; }
.note { font-size: 0.9rem; color: var(--muted); }
.warn { background: var(--late-bg); border-left: 5px solid #d4a72c; padding: 10px 14px;
        margin: 14px 0; font-size: 0.95rem; }
.missing { background: var(--na-bg); color: var(--na); padding: 10px 14px; border-radius: 4px;
           font-style: italic; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 0.9rem; width: 100%; }
th, td { border-bottom: 1px solid var(--rule); padding: 6px 8px; text-align: left;
         vertical-align: top; }
thead th { background: var(--soft); border-bottom: 2px solid var(--ink); font-weight: 600; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.ci.block { display: block; }
.ci { color: var(--muted); font-size: 0.85em; white-space: nowrap; }
.chip { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
        margin-right: 6px; vertical-align: -1px; }
.status { display: inline-block; padding: 1px 7px; border-radius: 10px; font-weight: 600;
          font-size: 0.82rem; white-space: nowrap; }
.s-met { color: var(--ok); background: var(--ok-bg); }
.s-late { color: var(--late); background: var(--late-bg); }
.s-not { color: var(--bad); background: var(--bad-bg); }
.s-na { color: var(--na); background: var(--na-bg); font-weight: 400; }
.detail { display: block; color: var(--muted); font-size: 0.78rem; line-height: 1.3;
          margin-top: 2px; }
.nowrap { white-space: nowrap; }
.scroll { overflow-x: auto; }
table.targets { table-layout: fixed; }
table.decision { table-layout: fixed; width: 100%; }
table.decision td, table.decision th { font-size: 0.8rem; padding: 5px 5px; vertical-align: top;
  overflow-wrap: anywhere; }
table.decision .ci { display: block; white-space: normal; }
table.decision .caveat { display: block; font-size: 0.76rem; line-height: 1.3; }
.tag-demand { color: #8a3b00; font-weight: 600; }
table.targets td, table.targets th { font-size: 0.84rem; padding: 6px 6px; overflow-wrap: anywhere; }
table.targets .status { font-size: 0.74rem; padding: 1px 6px; }
table.grouped tr.first td { border-top: 1px solid #8c959f; }
table.grouped tr.more td { border-bottom-color: #eaeef2; }
table.grouped td.measure { background: #fff !important; min-width: 240px; }
table.grouped tbody tr:nth-child(even) td { background: #fff; }
.item { color: var(--muted); font-size: 0.8rem; }
img.fig { width: 100%; height: auto; display: block; margin: 6px 0 4px; }
.scenarios { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr));
             gap: 10px 18px; margin: 12px 0; }
.scenario { border: 1px solid var(--rule); border-left-width: 6px; border-radius: 4px;
            padding: 8px 12px; font-size: 0.9rem; }
.scenario b { font-size: 0.98rem; }
dl.defs dt { font-weight: 600; margin-top: 8px; }
dl.defs dd { margin: 2px 0 6px 18px; font-size: 0.92rem; }
details { margin: 6px 0; }
details pre { background: var(--soft); padding: 10px; overflow-x: auto; font-size: 0.8rem; }
footer { max-width: 1200px; margin: 0 auto; padding: 16px 28px 40px; color: var(--muted);
         font-size: 0.85rem; border-top: 1px solid var(--rule); }
"""
