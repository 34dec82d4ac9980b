// The page's amount handling (web/js/format.js): exact, in base units, no floating point.
// Run by tests/web/test_amounts.py with `node --test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatAmount, parseAmount, shortAddress } from "../../web/js/format.js";

test("amounts are shown with the token's decimals, grouped, at least two places", () => {
  assert.equal(formatAmount(1_500_500_000n, 6), "1,500.50");
  assert.equal(formatAmount(0n, 6), "0.00");
  assert.equal(formatAmount(1n, 6), "0.000001");
  assert.equal(formatAmount(123_456_789_012_345_678_901n, 18), "123.456789012345678901");
  assert.equal(formatAmount((1n << 96n) - 1n, 6), "79,228,162,514,264,337,593,543.950335");
  assert.equal(formatAmount(-2_500_000n, 6), "-2.50");
  assert.equal(formatAmount(5n, 0), "5");
});

test("typed amounts are parsed exactly", () => {
  assert.equal(parseAmount("1,200", 6), 1_200_000_000n);
  assert.equal(parseAmount(" 300.5 ", 6), 300_500_000n);
  assert.equal(parseAmount("0.000001", 6), 1n);
  assert.equal(parseAmount("79228162514264337593543.950335", 6), (1n << 96n) - 1n);
  assert.equal(parseAmount("7.", 6), 7_000_000n);
});

test("anything else is refused with a reason", () => {
  assert.throws(() => parseAmount("0.0000001", 6, "M1 amount"), /M1 amount: at most 6 decimal places/);
  assert.throws(() => parseAmount("1e6", 6), /is not a number/);
  assert.throws(() => parseAmount("-5", 6), /is not a number/);
  assert.throws(() => parseAmount("", 6), /is not a number/);
  assert.throws(() => parseAmount("12.5.1", 6), /is not a number/);
});

test("addresses are shortened to their ends", () => {
  assert.equal(shortAddress("0x7E6BCE358ccEa25d440f3b7360c39B2BdF5350D9"), "0x7E6B…50D9");
});
