// Module resolution hooks for running the page's modules in Node: the page imports its
// vendored bundles as "../vendor/ethers.js" and "../vendor/age.js", which the service serves
// from node_modules and build/ (backend/routers/web.py); here web/vendor/NAME resolves to the
// same files. Registered by vendor.mjs (`node --import ./tests/js/vendor.mjs ...`).
const ROOT = new URL("../../", import.meta.url);
const VENDOR = {
  [new URL("web/vendor/ethers.js", ROOT).href]: new URL("node_modules/ethers/dist/ethers.min.js", ROOT).href,
  [new URL("web/vendor/age.js", ROOT).href]: new URL("build/vendor/age.js", ROOT).href,
};

export async function resolve(specifier, context, next) {
  if (context.parentURL && /^\.\.?\//.test(specifier)) {
    const target = VENDOR[new URL(specifier, context.parentURL).href];
    if (target) return { url: target, format: "module", shortCircuit: true };
  }
  return next(specifier, context);
}
