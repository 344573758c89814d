// Runs ELM JSON written by OUR translator for a folder of libraries (the real-world survey,
// docs/real-world-libraries.md) in the reference engine (cql-execution + cql-exec-fhir) on one
// record, printing one JSON line per library: {"library": ID, "values": {define: value}} or
// {"library": ID, "error": MESSAGE}. Every value set is empty (as in the survey's run).
// Usage: node run_survey_elm.mjs ELM_DIR RECORD.json PARAMETERS.json NOW LIBRARY_ID...
// (ELM_DIR holds every library's ELM, so includes resolve; PARAMETERS.json maps a library id
// to its parameters, each a FHIR resource.)
import fs from "node:fs";
import path from "node:path";
import { cql, cqlfhir, encode } from "../../oracle/cql_runtime.mjs";

const [, , elmDir, recordFile, parametersFile, now, ...ids] = process.argv;
const libraries = {};
for (const file of fs.readdirSync(elmDir).filter((f) => f.endsWith(".json"))) {
  const elm = JSON.parse(fs.readFileSync(path.join(elmDir, file), "utf8"));
  // A library without a context statement is Unfiltered, and cql-execution's UnfilteredContext
  // cannot resolve an included library (`lib.getFunction is not a function` on the first
  // FHIRHelpers call): its defines are run in the Patient context instead. The record has one
  // patient, so every retrieve sees the same data (our engine runs them so too).
  for (const d of elm.library.statements?.def ?? []) if (d.context === "Unfiltered") d.context = "Patient";
  libraries[elm.library.identifier.id] = elm;
}
const valueSets = {};
for (const elm of Object.values(libraries)) {
  for (const vs of elm.library.valueSets?.def ?? []) valueSets[vs.id] = { [vs.version ?? ""]: [] };
}
const codeService = new cql.CodeService(valueSets);
const fhir = cqlfhir.FHIRWrapper.FHIRv401();
const resources = JSON.parse(fs.readFileSync(recordFile, "utf8"));
const parameters = JSON.parse(fs.readFileSync(parametersFile, "utf8"));

for (const id of ids) {
  const elm = libraries[id];
  try {
    const library = new cql.Library(elm, new cql.Repository(libraries));
    const defines = (elm.library.statements?.def ?? []).filter(
      (d) => d.type !== "FunctionDef" && (d.accessLevel || "Public") === "Public",
    );
    const source = cqlfhir.PatientSource.FHIRv401();
    source.loadBundles([{ resourceType: "Bundle", type: "collection", entry: resources.map((r) => ({ resource: r })) }]);
    const given = {};
    // Every parameter is given (null when the record has no value for it): cql-execution
    // answers an ungiven parameter without a default with its definition, not null.
    for (const [name, resource] of Object.entries(parameters[id] ?? {})) {
      given[name] = resource === null ? null : fhir.wrap(resource);
    }
    const executor = new cql.Executor(library, codeService, given);
    const results = await executor.exec(source, cql.DateTime.parse(now));
    const patientResults = Object.values(results.patientResults)[0] ?? {};
    const values = {};
    for (const d of defines) values[d.name] = encode(patientResults[d.name]);
    console.log(JSON.stringify({ library: id, values }));
  } catch (error) {
    console.log(JSON.stringify({ library: id, error: String(error?.message ?? error).split("\n")[0] }));
  }
}
