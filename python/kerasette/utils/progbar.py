"""Keras 3's progress bar, printed line for line as Keras prints it.

Two deliberate departures from Keras 3, both about logs that are not terminals:

- Keras 3 treats every POSIX process as interactive (its test includes `"posix" in sys.modules`,
  which is always true on Linux and macOS), so a CI log fills up with `\\r` rewrites and ANSI codes.
  Here the bar is dynamic only when stdout is a tty, inside ipykernel, or under PyCharm.
- Without a dynamic display, `verbose=1` prints one plain line when the bar is finalized (once per
  epoch), not a new line every `interval` seconds.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Iterable, Optional, Sequence

import numpy as np

_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_WHITE = "\x1b[37m"
_RESET = "\x1b[0m"
_BAR_CHAR = "\u2501"  # "━", the character Keras 3 draws its bar with.


def _stdout_is_interactive() -> bool:
    stdout = sys.stdout
    isatty = getattr(stdout, "isatty", None)
    try:
        if isatty is not None and isatty():
            return True
    except ValueError:  # isatty() on a closed stream
        return False
    return "ipykernel" in sys.modules or "PYCHARM_HOSTED" in os.environ


def _format_value(value) -> str:
    if isinstance(value, str):
        return value
    # Keras switches to scientific notation below 1e-3 so tiny losses stay readable. Keras 3 tests
    # `avg > 1e-3` in verbose=2 (negative values print in %e there); we use abs() in both modes.
    avg = float(np.mean(value))
    return f"{avg:.4f}" if abs(avg) > 1e-3 else f"{avg:.4e}"


def _format_time_per_unit(time_per_unit: float, unit_name: str) -> str:
    if time_per_unit >= 1 or time_per_unit == 0:
        return f"{time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f"{time_per_unit * 1e3:.0f}ms/{unit_name}"
    return f"{time_per_unit * 1e6:.0f}us/{unit_name}"


def _format_eta(eta: float) -> str:
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


class Progbar:
    """Displays a progress bar.

    Args:
        target: Total number of steps expected, `None` if unknown.
        width: Progress bar width on screen, in characters.
        verbose: Verbosity mode: 0 (silent), 1 (bar), 2 (one line when finished).
        interval: Minimum time between two redraws of the bar, in seconds.
        stateful_metrics: Names of metrics shown as given. All other metrics are averaged
            over the steps seen, weighted by the number of steps each value covers.
        unit_name: Display name for a step (usually `"step"` or `"sample"`).

    Example:

    >>> bar = Progbar(100, verbose=2)
    >>> for step in range(1, 101):
    ...     bar.update(step, [("loss", 0.3)])
    100/100 - 0s - 12us/step - loss: 0.3000
    """

    def __init__(
        self,
        target: Optional[int],
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Optional[Iterable[str]] = None,
        unit_name: str = "step",
    ):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self._dynamic_display = _stdout_is_interactive()
        self._seen_so_far = 0
        # name -> [weighted sum, weight]; the list keeps first-seen order for display.
        self._values: dict = {}
        self._values_order: list = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: Optional[float] = None
        self._prev_total_width = 0

    def update(
        self,
        current: int,
        values: Optional[Sequence[tuple]] = None,
        finalize: Optional[bool] = None,
    ) -> None:
        """Updates the progress bar.

        Args:
            current: Index of the current step (1-based count of steps done).
            values: List of `(name, value_for_last_step)` tuples.
            finalize: Whether this is the last update. Defaults to `current >= target`.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._accumulate(current, values or [], finalize)
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            too_soon = now - self._last_update < self.interval
            if not finalize and (too_soon or not self._dynamic_display):
                return
            self._print_bar(current, finalize, now, time_per_unit)
        elif self.verbose == 2:
            if finalize and self.target is not None and self.target > 0:
                line = f"{self._count(current)} - {now - self._start:.0f}s - "
                line += _format_time_per_unit(time_per_unit, self.unit_name)
                line += self._metrics_text()
                self._write(line + "\n")
        self._last_update = now

    def add(self, n: int, values: Optional[Sequence[tuple]] = None) -> None:
        """Advances the bar by `n` steps."""
        self.update(self._seen_so_far + n, values)

    def _accumulate(self, current, values, finalize):
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            if name in self.stateful_metrics or finalize or isinstance(value, str):
                # The finalizing values are the epoch's own results: show them as given.
                self._values[name] = [value, 1]
                continue
            # max(..., 1): a repeated `current` (e.g. batch end then epoch end with no target)
            # must still count, or the average would divide by zero.
            weight = max(current - self._seen_so_far, 1)
            if name not in self._values or isinstance(self._values[name][0], str):
                self._values[name] = [value * weight, weight]
            else:
                self._values[name][0] += value * weight
                self._values[name][1] += weight

    def _metrics_text(self) -> str:
        text = ""
        for name in self._values_order:
            total, count = self._values[name]
            value = total if isinstance(total, str) else np.mean(total) / max(1, count)
            text += f" - {name}: {_format_value(value)}"
        return text

    def _count(self, current) -> str:
        numdigits = int(math.log10(self.target)) + 1
        return f"%{numdigits}d/%d" % (current, self.target)

    def _print_bar(self, current, finalize, now, time_per_unit):
        # Segments of (text, ANSI style); the style is dropped when the output is not a terminal,
        # and the width that pads over a longer previous line counts only the visible text.
        segments = []
        if self.target is not None and self.target > 0:
            segments.append((self._count(current), _BOLD))
            segments.append((" ", ""))
            filled = int(self.width * float(current) / self.target)
            if filled > 0:
                segments.append((_BAR_CHAR * filled, _GREEN))
            segments.append((_BAR_CHAR * (self.width - filled), _WHITE))
        else:
            segments.append(("%7d/Unknown" % current, ""))

        segments.append((" ", ""))
        if self.target is not None and self.target > 0 and not finalize:
            segments.append((_format_eta(time_per_unit * (self.target - current)), _BOLD))
        else:
            segments.append((f"{now - self._start:.0f}s", _BOLD))
        segments.append((" " + _format_time_per_unit(time_per_unit, self.unit_name), ""))
        segments.append((self._metrics_text(), ""))

        plain = "".join(text for text, _ in segments)
        if not self._dynamic_display:
            self._write(plain + "\n")
            return
        styled = (f"{style}{text}{_RESET}" if style else text for text, style in segments)
        message = "\r" + "".join(styled)
        total_width = len(plain)
        if self._prev_total_width > total_width:
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        self._prev_total_width = total_width
        self._write(message)

    def _estimate_step_duration(self, current, now) -> float:
        # The first step (graph build, warm-up) is not representative, so once there is a second
        # step the estimate is taken from the time after step one.
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit

    @staticmethod
    def _write(message: str) -> None:
        # Looked up at call time, so redirected or captured stdout (pytest's capsys) sees it.
        sys.stdout.write(message)
        sys.stdout.flush()
