"""Progress display of long calls (``Model.train(progress=True)``): a tqdm bar when tqdm is
installed (``tqdm.auto`` picks the notebook widget in Jupyter), else one line on stderr
rewritten in place."""

import sys
import time


class Bar:
    """A progress bar over a known number of steps, updated with ``update_to(done, total)``."""

    def __init__(self, desc):
        self.desc = desc
        self._bar = None
        self._plain_last = 0.0
        try:
            from tqdm.auto import tqdm  # noqa: F401

            self._tqdm = tqdm
        except ImportError:
            self._tqdm = None

    def update_to(self, done, total):
        """Shows ``done`` of ``total`` steps."""
        if self._tqdm is not None:
            if self._bar is None:
                self._bar = self._tqdm(total=total, desc=self.desc, unit="example")
            self._bar.n = done
            self._bar.refresh()
            return
        now = time.monotonic()
        if done < total and now - self._plain_last < 0.25:
            return
        self._plain_last = now
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r{self.desc} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()

    def close(self):
        """Ends the display."""
        if self._bar is not None:
            self._bar.close()
        elif self._tqdm is None and self._plain_last:
            sys.stderr.write("\n")
            sys.stderr.flush()
