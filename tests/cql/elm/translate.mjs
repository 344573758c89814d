// The reference translator (@cqframework/cql, installed by tests/oracle/install.sh): translates
// CQL libraries to ELM JSON, one JSON line per library: {"file": PATH, "elm": ..., "errors": [...]}.
// Used to compare our ELM writer's output with the reference shapes (tests only).
// Usage: node translate.mjs MODELS_DIR LIBRARIES_DIR LIB.cql...
import fs from "node:fs";
import { makeTranslator } from "../../oracle/cql_runtime.mjs";

const [, , modelsDir, librariesDir, ...files] = process.argv;
const translate = await makeTranslator(modelsDir, { librariesDir, ucum: true });
for (const file of files) {
  const { errors, elm } = translate(fs.readFileSync(file, "utf8"));
  console.log(JSON.stringify({ file, errors, elm }));
}
