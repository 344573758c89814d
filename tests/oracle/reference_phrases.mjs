// The differential oracle for the free-text reader: translate a wrapper library that includes the
// policy library with the reference translator, run it with the reference engine on one empty
// patient with the phrase lists as parameters, and print its public defines as one JSON line.
// Usage: node reference_phrases.mjs MODELS_DIR LIBRARIES_DIR WRAPPER.cql POLICY.cql VALUESETS_DIR NOW PARAMETERS.json
// (LIBRARIES_DIR holds FHIRHelpers-4.0.1.cql; the policy library is included by name.)
import fs from "node:fs";
import path from "node:path";
import { codeService, cql, cqlfhir, makeTranslator, publicDefines, translateFileOrExit } from "./cql_runtime.mjs";

const [, , modelsDir, librariesDir, wrapperFile, policyFile, valuesetsDir, now, parametersFile] = process.argv;

const translate = await makeTranslator(modelsDir, { librariesDir });
const helpers = translateFileOrExit(translate, path.join(librariesDir, "FHIRHelpers-4.0.1.cql"), "FHIRHelpers");
const policy = translateFileOrExit(translate, policyFile);
const wrapper = translateFileOrExit(translate, wrapperFile);
const library = new cql.Library(wrapper, new cql.Repository({ FHIRHelpers: helpers, DLIMedicalNecessity: policy }));
const defines = publicDefines(wrapper, ["Patient"]);

const source = cqlfhir.PatientSource.FHIRv401();
source.loadBundles([{ resourceType: "Bundle", type: "collection", entry: [{ resource: { resourceType: "Patient", id: "p" } }] }]);
const parameters = JSON.parse(fs.readFileSync(parametersFile, "utf8"));
const executor = new cql.Executor(library, codeService(valuesetsDir), parameters);
const results = await executor.exec(source, cql.DateTime.parse(now));
const patientResults = Object.values(results.patientResults)[0];
const values = {};
for (const name of defines) values[name] = patientResults[name] ?? null;
console.log(JSON.stringify(values));
