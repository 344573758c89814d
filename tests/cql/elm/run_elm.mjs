// Runs ELM JSON written by OUR translator (cds/cql/elm) in the reference engine (cql-execution +
// cql-exec-fhir, installed by tests/oracle/install.sh) on fhir-examples cases, printing one JSON
// line per case: {"case": NAME, "orders": {"ServiceRequest/id": {define: value, ...}}} — the
// same encoding as tests/oracle/reference.mjs (both print through tests/oracle/cql_runtime.mjs),
// so the two are compared define by define.
// Usage: node run_elm.mjs LIBRARY.elm.json INCLUDED.elm.json[,INCLUDED.elm.json...] VALUESETS_DIR NOW
//          QUESTIONNAIRE_URL CASE_DIR...
// (the included libraries — FHIRHelpers, and the policy library for the DTR prepopulation
// library — comma-separated, each registered under its own identifier).
import fs from "node:fs";
import { codeService, cql, printCases, publicDefines } from "../../oracle/cql_runtime.mjs";

const [, , libraryFile, helpersFile, valuesetsDir, now, questionnaireUrl, ...caseDirs] = process.argv;
const elm = JSON.parse(fs.readFileSync(libraryFile, "utf8"));
const included = {};
for (const file of helpersFile.split(",")) {
  const lib = JSON.parse(fs.readFileSync(file, "utf8"));
  included[lib.library.identifier.id] = lib;
}
const library = new cql.Library(elm, new cql.Repository(included));
await printCases(library, publicDefines(elm), codeService(valuesetsDir), now, questionnaireUrl, caseDirs);
