// A cql-execution value as JSON, as tests/oracle/reference.mjs encodes it (resources as
// "Type/id", FHIR primitives as their value, temporal values as text): shared by run_elm.mjs and
// run_survey_elm.mjs so their rows compare with our engine's result_json define by define.
export function encode(value) {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(encode);
  if (typeof value !== "object") return value;
  if (value._json !== undefined) {
    const json = value._json;
    if (json && typeof json === "object" && json.resourceType) return `${json.resourceType}/${json.id}`;
    if (json && typeof json === "object" && Object.keys(json).length === 1 && "value" in json) return json.value;
    return json;
  }
  if (value.isDateTime || value.isDate || value.isTime) return value.toString();
  if (value.isQuantity) return { value: value.value, unit: value.unit };
  if (value.isRatio) return { numerator: encode(value.numerator), denominator: encode(value.denominator) };
  if (value.isInterval) {
    return { low: encode(value.low), high: encode(value.high), lowClosed: value.lowClosed, highClosed: value.highClosed };
  }
  if (value.isCode) {
    const out = { system: value.system, code: value.code };
    if (value.display) out.display = value.display;
    return out;
  }
  if (value.isConcept) return { codes: value.codes.map(encode) };
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = encode(v);
  return out;
}
