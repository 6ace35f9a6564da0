// Uploading customers (R-IO2): progress while the file uploads and while it is read,
// then what was imported, and the rejected rows as a CSV to fix and upload again.
import { lang, t } from "./i18n.js";
import { clearErrors, showError } from "./ui.js";

const dialog = document.getElementById("import-dialog");
const form = document.getElementById("import-form");
const bar = document.getElementById("import-progress");
const status = document.getElementById("import-status");
const report = document.getElementById("import-report");
const startButton = document.getElementById("import-start");

export function wireImport(onImported) {
  document.addEventListener("mycrm:upload", () => {
    clearErrors(form);
    form.reset();
    bar.hidden = true;
    status.textContent = "";
    report.hidden = true;
    dialog.showModal();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    upload(onImported);
  });
}

function upload(onImported) {
  clearErrors(form);
  const file = document.getElementById("import-file").files[0];
  if (!file) {
    showError(form, { field: "csv_file", message: t("import.choose_first") });
    return;
  }
  const dryRun = document.getElementById("import-dry-run").checked;
  const data = new FormData();
  data.append("csv_file", file);
  const request = new XMLHttpRequest();
  request.open("POST", `/api/import?progress=1&dry_run=${dryRun ? 1 : 0}`);
  request.setRequestHeader("Accept-Language", lang);
  bar.hidden = false;
  bar.value = 0;
  report.hidden = true;
  startButton.disabled = true;
  request.upload.addEventListener("progress", (event) => {
    if (!event.lengthComputable) return;
    bar.value = event.loaded / event.total / 2;
    status.textContent = t("import.uploading", { percent: Math.round((100 * event.loaded) / event.total) });
  });
  let seen = 0;
  const readLines = () => {
    const text = request.responseText;
    const end = text.lastIndexOf("\n") + 1;
    for (const line of text.slice(seen, end).split("\n").filter(Boolean)) handle(JSON.parse(line), dryRun, onImported);
    seen = Math.max(seen, end);
  };
  request.addEventListener("progress", () => {
    if (request.status === 200) readLines();
  });
  request.addEventListener("load", () => {
    startButton.disabled = false;
    if (request.status === 200) {
      readLines();
      return;
    }
    bar.hidden = true;
    status.textContent = "";
    let error = { message: request.statusText };
    try {
      error = JSON.parse(request.responseText).error;
    } catch {
      // not JSON: keep the status text
    }
    showError(form, error);
  });
  request.addEventListener("error", () => {
    startButton.disabled = false;
    showError(form, { message: t("app.error") });
  });
  request.send(data);
}

function handle(message, dryRun, onImported) {
  if (message.progress) {
    const { rows, bytes, size } = message.progress;
    bar.value = 0.5 + (size ? Math.min(bytes / size, 1) / 2 : 0);
    status.textContent = t("import.processing", { rows: rows.toLocaleString() });
  } else if (message.error) {
    bar.hidden = true;
    status.textContent = "";
    showError(form, message.error);
  } else if (message.result) {
    bar.value = 1;
    show(message.result, dryRun);
    if (!dryRun) onImported();
  }
}

function show(result, dryRun) {
  status.textContent = t(dryRun ? "import.checked" : "import.done", {
    rows: result.rows,
    inserted: result.inserted,
    updated: result.updated,
    unchanged: result.unchanged,
    rejected: result.rejected_total,
    encoding: result.encoding,
  });
  const notes = [];
  if (result.ignored_total) {
    const more = result.ignored_total - result.ignored_columns.length;
    notes.push(t("import.ignored", { columns: result.ignored_columns.join(", ") + (more ? ` … (+${more})` : "") }));
  }
  if (result.duplicates_total) notes.push(t("import.duplicates", { count: result.duplicates_total }));
  document.getElementById("import-notes").textContent = notes.join(" · ");
  const body = document.getElementById("import-rejected");
  body.replaceChildren();
  for (const rejected of result.rejected) {
    const row = body.insertRow();
    for (const text of [rejected.row, fieldLabel(rejected.field), rejected.message]) row.insertCell().textContent = text;
  }
  // Every rejected row, with its reason, as the server wrote it (the result lists the first).
  const link = document.getElementById("import-rejected-csv");
  link.hidden = !result.rejected_csv;
  if (result.rejected_csv) link.href = result.rejected_csv;
  report.hidden = notes.length === 0 && result.rejected_total === 0;
}

// A rejected row names its field by the column's label, as the grid's header does.
function fieldLabel(name) {
  const label = t(`column.${name}`);
  return label === `column.${name}` ? name : label;
}
