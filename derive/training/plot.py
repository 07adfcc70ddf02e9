"""The loss and accuracy curves of a training run, as a PNG (matplotlib, Agg backend).

Drawn on a bare ``Figure`` with the Agg canvas: no pyplot, no global backend switched, no window.
"""

from __future__ import annotations

import io
import warnings

from derive.training.loop import History

WIDTH, HEIGHT, DPI = 10.0, 4.0, 100  # inches, inches, dots per inch: a 1000 x 400 PNG


def curves_png(history: History, title: str, held_out: bool = True, l2: bool = False) -> bytes:
    """Two panels side by side: the loss per epoch (training and test) and the accuracy per epoch."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    epochs = list(range(1, len(history.loss) + 1))
    marker = "." if len(epochs) <= 60 else None  # dots while they can be told apart
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    loss, accuracy = figure.subplots(1, 2)
    test = "test" if held_out else "test (= training points)"
    loss.plot(
        epochs,
        history.loss,
        marker=marker,
        label="training (with the L2 term)" if l2 else "training",
    )
    loss.plot(epochs, history.test_loss, marker=marker, label=test)
    loss.set(title="loss (mean cost)", xlabel="epoch", ylabel="cost")
    if min(history.loss + history.test_loss) > 0:
        loss.set_yscale("log")
    accuracy.plot(
        epochs, [100 * a for a in history.train_accuracy], marker=marker, label="training"
    )
    accuracy.plot(epochs, [100 * a for a in history.test_accuracy], marker=marker, label=test)
    accuracy.set(title="accuracy", xlabel="epoch", ylabel="correctly classified")
    accuracy.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    accuracy.set_ylim(top=100.5)
    for axes in (loss, accuracy):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(True, alpha=0.3)
        axes.legend()
    final = (
        f"final: training {100 * history.train_accuracy[-1]:.1f} %, "
        f"test {100 * history.test_accuracy[-1]:.1f} %"
    )
    figure.suptitle(f"{_plain(title)}\n{final}", fontsize=10)
    buffer = io.BytesIO()
    with (
        warnings.catch_warnings()
    ):  # a glyph no font has (a CJK file name) is drawn as a box, without a word
        warnings.simplefilter("ignore")
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _plain(text: str) -> str:
    """A title as literal text: no control characters, and no $ that would start matplotlib's mathtext."""
    printable = "".join(
        ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else "?" for ch in text
    )
    return printable.replace("$", r"\$")
