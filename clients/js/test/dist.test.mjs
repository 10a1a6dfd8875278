// The built client is committed twice — dist/ (what the npm package ships) and the demo shop's copy (served by the
// API without a build step) — so both must be what src/ compiles to.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path) => readFileSync(join(root, path), "utf8");

test("the demo shop serves the client dist/ holds", () => {
  assert.equal(read("../../src/Api/wwwroot/demo/sessionrec.js"), read("dist/sessionrec.js"));
});

test("dist/ is what src/ compiles to", (t) => {
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  if (!existsSync(tsc)) {
    t.skip("TypeScript is not installed (npm ci in clients/js; .ci/run does)");
    return;
  }

  const out = mkdtempSync(join(tmpdir(), "sessionrec-client-"));
  try {
    execFileSync(process.execPath, [tsc, "-p", root, "--outDir", out], { stdio: "pipe" });
    for (const file of ["sessionrec.js", "sessionrec.d.ts"]) {
      assert.equal(read(`dist/${file}`), readFileSync(join(out, file), "utf8"), `dist/${file} is stale: run npm run build in clients/js`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
