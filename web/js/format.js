// Amounts, times and addresses as the page shows and reads them: pure functions, no DOM (the
// node tests in tests/js run them as they are).

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

/** The same address, whatever the case of its hex digits (false when either is missing). */
export const sameAddress = (a, b) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

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

export const DAY = 86400;
