// The demo shop (src/Api/wwwroot/demo) loads the built client without a build step of its own: this copies it there.
// test/dist.test.mjs checks that the two copies agree.
import { copyFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const from = fileURLToPath(new URL("../dist/sessionrec.js", import.meta.url));
const to = fileURLToPath(new URL("../../../src/Api/wwwroot/demo/sessionrec.js", import.meta.url));
copyFileSync(from, to);
console.log(`copied ${from} -> ${to}`);
