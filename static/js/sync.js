// The mail sync's ledger in a tab (issue 17): per folder, what the server holds within the
// look-back window, what was stored or skipped and why, and what is missing; with the totals.
import { get } from "./api.js";
import { lang, t } from "./i18n.js";
import { fail } from "./ui.js";

const REASONS = ["duplicate", "excluded", "older", "unreadable"];

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
  return td;
}

export function syncView() {
  const box = document.createElement("div");
  box.className = "sync-view";
  const totals = document.createElement("p");
  totals.className = "sync-totals";
  const table = document.createElement("table");
  table.className = "sync-table";
  const head = table.createTHead().insertRow();
  const columns = ["folder", "on_server", "stored", ...REASONS, "missing", "last_sync", "push"];
  for (const name of columns) {
    const th = document.createElement("th");
    th.textContent = t(`sync.${name}`);
    head.append(th);
  }
  const body = table.createTBody();
  box.append(totals, table);

  async function refresh() {
    try {
      const { rows } = await get("/api/mail/folders");
      body.replaceChildren();
      const number = new Intl.NumberFormat(lang);
      let checked = 0;
      let missing = 0;
      for (const folder of rows) {
        const row = body.insertRow();
        cell(row, folder.folder);
        for (const name of ["on_server", "stored"]) cell(row, number.format(folder[name]));
        for (const reason of REASONS) cell(row, number.format(folder.skipped[reason]));
        const gap = cell(row, number.format(folder.missing));
        if (folder.missing) gap.className = "sync-missing";
        cell(row, folder.last_sync ?? "");
        cell(row, folder.push ? t("sync.yes") : "");
        checked += folder.on_server;
        missing += folder.missing;
      }
      totals.textContent = rows.length
        ? t("sync.totals", { checked: number.format(checked), missing: number.format(missing) })
        : t("sync.none");
    } catch (error) {
      fail(error);
    }
  }

  return { element: box, start: refresh };
}
