// A progress bar for the long steps of a document (encrypting, uploading, downloading and
// decrypting a 50 MB inspection report takes seconds): a <progress> named by the step it
// measures (aria-labelledby, so a screen reader says "Encrypting, 40%"), and the amount done
// in words beside it.
import { h, replace } from "./ui.js";

let made = 0;

/** { element, step(name, total), update(done) }: `total` and `done` in bytes. */
export function progressBar() {
  const id = `progress-step-${++made}`;
  const name = h("span.progress-step", { id });
  const bar = h("progress", { max: 1, value: 0, "aria-labelledby": id });
  const amount = h("span.progress-amount.muted");
  const element = h("span.progress", name, " ", bar, " ", amount);
  let total = 0;
  let shown = -1;
  const update = (done) => {
    const fraction = total > 0 ? Math.min(done / total, 1) : 1;
    const percent = Math.floor(fraction * 100);
    if (percent === shown) return; // a 50 MB document comes in 800 chunks: redraw per percent
    shown = percent;
    bar.value = fraction;
    replace(amount, `${megabytes(Math.min(done, total))} of ${megabytes(total)}`);
  };
  const step = (label, size) => {
    replace(name, label);
    total = size;
    shown = -1;
    update(0);
  };
  return { element, step, update };
}

function megabytes(n) {
  return n < 1e6 ? `${Math.ceil(n / 1e3)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}
