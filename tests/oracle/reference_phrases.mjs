// The differential oracle for the free-text reader: translate a wrapper library that includes the
// policy library with the reference translator, run it with the reference engine on one empty
// patient with the phrase lists as parameters, and print its public defines as one JSON line.
// Usage: node reference_phrases.mjs MODELS_DIR LIBRARIES_DIR WRAPPER.cql POLICY.cql VALUESETS_DIR NOW PARAMETERS.json
// (LIBRARIES_DIR holds FHIRHelpers-4.0.1.cql; the policy library is included by name.)
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
global.require = require; // kotlinx-io needs a global require under ESM
import fs from "node:fs";
import path from "node:path";

const cql = require("cql-execution");
const cqlfhir = require("cql-exec-fhir");
const { NamespaceManager } = await import("@cqframework/cql/cql");
const { DefaultModelInfoProvider, DefaultLibrarySourceProvider, stringAsPath, ModelManager, LibraryManager, CqlTranslator } =
  await import("@cqframework/cql/cql-to-elm");

const [, , modelsDir, librariesDir, wrapperFile, policyFile, valuesetsDir, now, parametersFile] = process.argv;

const modelManager = new ModelManager(new NamespaceManager());
modelManager.modelInfoLoader.registerModelInfoProvider(new DefaultModelInfoProvider(stringAsPath(modelsDir)));
const libraryManager = new LibraryManager(modelManager);
libraryManager.librarySourceLoader.registerProvider(new DefaultLibrarySourceProvider(stringAsPath(librariesDir)));

function translate(text, name) {
  const translator = CqlTranslator.fromText(text, libraryManager);
  const errors = Array.from(translator.errors.asJsReadonlyArrayView());
  if (errors.length) {
    console.error(`${name}: ${errors.map((e) => e.message).join("; ")}`);
    process.exit(2);
  }
  return JSON.parse(translator.toJson());
}

const helpers = translate(fs.readFileSync(path.join(librariesDir, "FHIRHelpers-4.0.1.cql"), "utf8"), "FHIRHelpers");
const policy = translate(fs.readFileSync(policyFile, "utf8"), policyFile);
const wrapper = translate(fs.readFileSync(wrapperFile, "utf8"), wrapperFile);
const library = new cql.Library(wrapper, new cql.Repository({ FHIRHelpers: helpers, DLIMedicalNecessity: policy }));
const defines = wrapper.library.statements.def
  .filter((d) => d.type !== "FunctionDef" && (d.accessLevel || "Public") === "Public" && d.name !== "Patient")
  .map((d) => d.name);

const valueSets = {};
for (const file of fs.readdirSync(valuesetsDir).filter((f) => f.endsWith(".json"))) {
  const vs = JSON.parse(fs.readFileSync(path.join(valuesetsDir, file), "utf8"));
  const codes = [];
  for (const inc of vs.compose?.include ?? []) {
    for (const c of inc.concept ?? []) codes.push({ code: c.code, system: inc.system, version: inc.version });
  }
  valueSets[vs.url] = { [vs.version ?? ""]: codes };
}
const source = cqlfhir.PatientSource.FHIRv401();
source.loadBundles([{ resourceType: "Bundle", type: "collection", entry: [{ resource: { resourceType: "Patient", id: "p" } }] }]);
const parameters = JSON.parse(fs.readFileSync(parametersFile, "utf8"));
const executor = new cql.Executor(library, new cql.CodeService(valueSets), parameters);
const results = await executor.exec(source, cql.DateTime.parse(now));
const patientResults = Object.values(results.patientResults)[0];
const values = {};
for (const name of defines) values[name] = patientResults[name] ?? null;
console.log(JSON.stringify(values));
