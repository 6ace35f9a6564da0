// The customer's fields and the validity codes, as the server defines them (model/), handed
// over in #app's data-model: the page keeps no list of fields of its own.
const model = JSON.parse(document.getElementById("app").dataset.model);

export const FIELDS = model.fields;
export const EDITABLE = FIELDS.filter((field) => field.editable);
export const VALIDITY = model.validity;
export const KEY_COLUMNS = model.key_columns;
export const DEFAULT_COLUMNS = model.default_columns;
export const fieldNamed = (name) => FIELDS.find((item) => item.name === name);
