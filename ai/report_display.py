"""The classifier evaluation report (ai.textclf.evaluation) as admin HTML: tables and SVG charts in the
style of ai.charts (no JavaScript)."""
from __future__ import annotations

from typing import Any

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from ai.charts import line_chart_svg

MAX_HEATMAP_LABELS = 40
MAX_ROC_SERIES = 8


def _number(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def confusion_heatmap_svg(matrix: list[list[int]], labels: list[str], *, cell: int = 0) -> SafeString:
    """Rows: true label; columns: predicted. Darker blue: more items; each cell's count in its title."""
    n = len(labels)
    cell = cell or max(12, min(40, 480 // max(n, 1)))
    left, top = 130, 110
    width, height = left + n * cell + 10, top + n * cell + 10
    peak = max((value for row in matrix for value in row), default=0) or 1
    parts = [
        f'<svg class="ai-chart" role="img" aria-label="confusion matrix" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
        "<title>confusion matrix (rows: true label, columns: predicted)</title>",
        f'<text x="{left}" y="14" font-weight="bold">predicted →</text>',
        f'<text transform="translate(12 {top + n * cell / 2}) rotate(-90)" text-anchor="middle" font-weight="bold">true label →</text>',
    ]
    for j, name in enumerate(labels):
        x = left + j * cell + cell / 2
        parts.append(f'<text transform="translate({x:.1f} {top - 6}) rotate(-60)" fill="#444">{escape(name[:18])}</text>')
    for i, name in enumerate(labels):
        y = top + i * cell
        parts.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" fill="#444">{escape(name[:18])}</text>')
        for j, value in enumerate(matrix[i]):
            shade = value / peak
            colour = f"rgb({int(255 - 218 * shade)},{int(255 - 156 * shade)},{int(255 - 20 * shade)})"
            parts.append(
                f'<rect x="{left + j * cell}" y="{y}" width="{cell}" height="{cell}" fill="{colour}" stroke="#e5e7eb">'
                f"<title>{escape(name)} → {escape(labels[j])}: {value}</title></rect>"
            )
            if cell >= 22 and value:
                fill = "#fff" if shade > 0.55 else "#111"
                parts.append(f'<text x="{left + j * cell + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" fill="{fill}">{value}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def roc_chart_svg(roc: dict[str, dict[str, Any]]) -> SafeString:
    """One-vs-rest ROC curves of the labels with the lowest AUC (at most MAX_ROC_SERIES), and the diagonal."""
    worst = sorted(roc.items(), key=lambda item: item[1]["auc"])[:MAX_ROC_SERIES]
    series = [(f"{name} (AUC {curve['auc']:.3f})", list(zip(curve["fpr"], curve["tpr"], strict=True))) for name, curve in worst]
    series.append(("chance", [(0.0, 0.0), (1.0, 1.0)]))
    return line_chart_svg(series, height=320, title="ROC, one vs. rest", x_label="false positive rate", y_label="true positive rate", y_min=0.0)


def _most_confused(matrix: list[list[int]], labels: list[str], limit: int = 20) -> list[tuple[str, str, int]]:
    pairs = [(labels[i], labels[j], value) for i, row in enumerate(matrix) for j, value in enumerate(row) if i != j and value]
    return sorted(pairs, key=lambda pair: -pair[2])[:limit]


def render_report(report: dict[str, Any]) -> SafeString:
    """One label set's report: summary, per-label table, confusion matrix, ROC curves, cross-validation."""
    summary = format_html(
        '<table class="ai-report-table"><tr><th>held-out items</th><td>{}</td></tr><tr><th>trained on</th><td>{}</td></tr>'
        "<tr><th>accuracy</th><td>{}</td></tr><tr><th>macro precision</th><td>{}</td></tr><tr><th>macro recall</th><td>{}</td></tr>"
        "<tr><th>macro F1</th><td>{}</td></tr><tr><th>macro AUC</th><td>{}</td></tr></table>",
        report.get("n"), report.get("n_train", "–"), _number(report.get("accuracy")), _number(report.get("macro_precision")),
        _number(report.get("macro_recall")), _number(report.get("macro_f1")), _number(report.get("macro_auc")),
    )
    per_label = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (name, _number(row["precision"]), _number(row["recall"]), _number(row["f1"]), row["support"],
             _number(report.get("roc", {}).get(name, {}).get("auc")))
            for name, row in report.get("per_label", {}).items()
        ),
    )
    per_label_table = format_html(
        '<table class="ai-report-table"><thead><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th>'
        "<th>AUC</th></tr></thead><tbody>{}</tbody></table>",
        per_label,
    )
    parts = [summary, per_label_table]
    matrix, labels = report.get("confusion_matrix"), report.get("labels", [])
    if matrix:
        if len(labels) <= MAX_HEATMAP_LABELS:
            parts.append(format_html("<h3>Confusion matrix</h3>{}", confusion_heatmap_svg(matrix, labels)))
        else:
            rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", _most_confused(matrix, labels))
            parts.append(format_html(
                "<h3>Most confused pairs ({} labels: too many to draw)</h3><table class='ai-report-table'><thead><tr>"
                "<th>true</th><th>predicted</th><th>items</th></tr></thead><tbody>{}</tbody></table>",
                len(labels), rows,
            ))
    if report.get("roc"):
        parts.append(format_html("<h3>ROC curves</h3>{}", roc_chart_svg(report["roc"])))
    cv = report.get("cv")
    if cv:
        parts.append(format_html(
            "<p>{}-fold cross-validation: accuracy {} ± {}, macro F1 {} ± {}</p>", cv["folds"],
            _number(cv["accuracy_mean"]), _number(cv["accuracy_sd"]), _number(cv["macro_f1_mean"]), _number(cv["macro_f1_sd"]),
        ))
    return format_html_join("", "{}", ((part,) for part in parts))


def render_version_report(report: dict[str, Any]) -> SafeString | str:
    """A version's report: one section per label set (text_classifier, chat_intent), or a single report."""
    if not report:
        return "–"
    if report.get("type") == "demand_backtest":
        return render_backtest_report(report)
    sections = report.get("label_sets") or ({"": report} if "per_label" in report else {})
    if not sections:
        return "–"
    return format_html_join(
        "", "<section class='ai-report'>{}{}</section>",
        ((format_html("<h3>{}</h3>", name) if name and len(sections) > 1 else "", render_report(section)) for name, section in sections.items()),
    )


def render_backtest_report(report: dict[str, Any]) -> SafeString:
    """The demand kind's backtest: RMSSE, MASE and bias per model and, for the per-product choice, per
    ABC class of products; how many products each model was chosen for."""
    def rows(table: dict[str, dict[str, Any]]):
        return format_html_join(
            "", "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((name, _number(values.get("rmsse")), _number(values.get("mase")), _number(values.get("bias")), values.get("products", "–"))
             for name, values in table.items()),
        )

    head = "<thead><tr><th></th><th>RMSSE</th><th>MASE</th><th>bias</th><th>products</th></tr></thead>"
    chosen = format_html_join(", ", "{} ({})", report.get("chosen", {}).items())
    return format_html(
        "<section class='ai-report ai-backtest'><h3>Backtest per model ({} origins)</h3><table>{}<tbody>{}</tbody></table>"
        "<h3>The per-product choice per ABC class</h3><table>{}<tbody>{}</tbody></table><p>Chosen: {}</p></section>",
        report.get("n_windows", "–"), mark_safe(head), rows(report.get("models", {})), mark_safe(head),
        rows({f"class {label}": values for label, values in report.get("abc", {}).items()}), chosen,
    )
