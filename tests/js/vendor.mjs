// `node --import ./tests/js/vendor.mjs`: the page's vendored imports resolve in Node.
import { register } from "node:module";

register("./vendor-hooks.mjs", import.meta.url);
