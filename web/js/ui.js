// DOM and formatting helpers: no framework, no build step.

/** h('div.card#x', {onclick}, child, ...) -> element. Strings become text nodes (never HTML). */
export function h(tag, attrs, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name || "div");
  for (const part of rest) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** "110,000.00": token units with the token's decimals, at least two places, no rounding. */
export function formatAmount(value, decimals) {
  value = BigInt(value);
  const negative = value < 0n;
  if (negative) value = -value;
  const base = 10n ** BigInt(decimals);
  const whole = (value / base).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let fraction = (value % base).toString().padStart(decimals, "0").replace(/0+$/, "");
  if (decimals >= 2) fraction = fraction.padEnd(2, "0");
  return (negative ? "-" : "") + whole + (fraction ? "." + fraction : "");
}

/** Parses "1,250.5" into base units; throws a readable Error on anything else. */
export function parseAmount(text, decimals, what = "amount") {
  const clean = String(text).trim().replace(/[,_\s]/g, "");
  const match = /^(\d+)(?:\.(\d*))?$/.exec(clean);
  if (!match) throw new Error(`${what}: "${text}" is not a number`);
  const fraction = match[2] || "";
  if (fraction.length > decimals) {
    throw new Error(`${what}: at most ${decimals} decimal places`);
  }
  return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

export function shortAddress(address) {
  return address ? `${address.slice(0, 6)}…${address.slice(-4)}` : "";
}

/** An address shortened, the whole of it in the title, with a copy button. */
export function addressTag(address, you) {
  const button = h(
    "button.copy",
    {
      type: "button",
      title: "Copy the full address",
      "aria-label": `Copy ${address}`,
      onclick: async (event) => {
        event.preventDefault();
        await copyText(address);
        button.textContent = "copied";
        setTimeout(() => (button.textContent = "copy"), 1500);
      },
    },
    "copy",
  );
  return h(
    "span.address",
    { dataset: { address } },
    h("code", { title: address }, shortAddress(address)),
    you && address && you.toLowerCase() === address.toLowerCase() ? h("span.you", "you") : null,
    button,
  );
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Not a secure context (plain http on another host): the old way.
    const area = h("textarea", { readonly: true }, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

const DATE = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "UTC",
});

export function formatTime(seconds) {
  return `${DATE.format(new Date(Number(seconds) * 1000))} UTC`;
}

/** "in 3 days", "2 hours ago", relative to `now` (the chain's time, not the browser's). */
export function relative(seconds, now) {
  const delta = Number(seconds) - Number(now);
  const abs = Math.abs(delta);
  const [n, unit] =
    abs >= 86400 ? [Math.round(abs / 86400), "day"]
    : abs >= 3600 ? [Math.round(abs / 3600), "hour"]
    : [Math.max(1, Math.round(abs / 60)), "minute"];
  const text = `${n} ${unit}${n === 1 ? "" : "s"}`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

/** Date input value (YYYY-MM-DD) -> unix seconds at 23:59:59 UTC that day. */
export function endOfDay(dateText) {
  const ms = Date.parse(`${dateText}T23:59:59Z`);
  if (Number.isNaN(ms)) throw new Error(`"${dateText}" is not a date`);
  return Math.floor(ms / 1000);
}

export function dateInput(seconds) {
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 10);
}

/** A message in the page's notice area: kind is "error", "ok" or "info". */
export function notify(kind, text) {
  const area = document.getElementById("notices");
  const note = h(
    `div.notice.${kind}`,
    { role: kind === "error" ? "alert" : "status" },
    h("span", text),
    h("button.dismiss", { type: "button", "aria-label": "Dismiss", onclick: () => note.remove() }, "×"),
  );
  area.append(note);
  if (kind !== "error") setTimeout(() => note.remove(), 8000);
  return note;
}

export function clearNotices() {
  replace(document.getElementById("notices"));
}
