// Copies the pinned npm assets into static/vendor, where Go embeds them.
import { copyFileSync, mkdirSync } from "node:fs";

const files = {
  "node_modules/htmx.org/dist/htmx.min.js": "htmx.min.js",
  "node_modules/htmx-ext-sse/dist/sse.min.js": "sse.min.js",
  "node_modules/@picocss/pico/css/pico.min.css": "pico.min.css",
};
mkdirSync("static/vendor", { recursive: true });
for (const [from, to] of Object.entries(files)) {
  copyFileSync(from, "static/vendor/" + to);
  console.log("vendored", to);
}
