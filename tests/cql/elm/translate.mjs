// The reference translator (@cqframework/cql, installed by tests/oracle/install.sh): translates
// CQL libraries to ELM JSON, one JSON line per library: {"file": PATH, "elm": ..., "errors": [...]}.
// Used to compare our ELM writer's output with the reference shapes (tests only).
// Usage: node translate.mjs [--list-promotion] [--list-demotion] MODELS_DIR LIBRARIES_DIR LIB.cql...
// The options are the translator's own, off by default there; a flag turns one on.
import fs from "node:fs";
import { makeTranslator } from "../../oracle/cql_runtime.mjs";

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith("--")));
const [modelsDir, librariesDir, ...files] = args.filter((a) => !a.startsWith("--"));
const enable = [];
if (flags.has("--list-promotion")) enable.push("ListPromotion");
if (flags.has("--list-demotion")) enable.push("ListDemotion");
const translate = await makeTranslator(modelsDir, { librariesDir, ucum: true, enable });
for (const file of files) {
  const { errors, elm } = translate(fs.readFileSync(file, "utf8"));
  console.log(JSON.stringify({ file, errors, elm }));
}
