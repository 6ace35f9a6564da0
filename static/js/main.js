// The UI: menus, tabs, the two customer grids, the message panel and the dialogs.
import { api, get } from "./api.js";
import { CommentEditor, CustomerDialog, SettingsDialog } from "./dialogs.js";
import { Grid } from "./grid.js";
import { wireImport } from "./importer.js";
import { wireJobStatus } from "./jobstatus.js";
import { t } from "./i18n.js";
import { logView } from "./logs.js";
import { syncView } from "./sync.js";
import { wireMenus } from "./menus.js";
import { MailSearch } from "./mail_search.js";
import { SidePanel } from "./panel.js";
import { Tabs } from "./tabs.js";
import { confirmAction, fail, toast } from "./ui.js";

const tabs = new Tabs(document.getElementById("tabs"));
const panel = new SidePanel();
new MailSearch(panel);
let selected = null;
let activeGrid = null;

const customerDialog = new CustomerDialog(() => activeGrid.load());
const commentEditor = new CommentEditor(() => activeGrid.load());
const settingsDialog = new SettingsDialog();

// Selecting a customer in either grid shows how many messages it has (R-CU4).
async function selectCustomer(customer) {
  selected = customer;
  try {
    const data = await get(`/api/customers/${customer.id}/messages?rows=0`);
    document.getElementById("message-count").textContent = data.total;
  } catch (error) {
    fail(error);
  }
}

async function gridAction(action, grid) {
  activeGrid = grid;
  if (action === "add") {
    customerDialog.open();
    return;
  }
  const customer = grid.selectedCustomer();
  if (!customer) {
    toast(t("grid.select_first"), "error");
    return;
  }
  if (action === "edit") customerDialog.open(customer);
  if (action === "comment") commentEditor.open(customer);
  if (action === "snooze") {
    const dialog = document.getElementById("snooze-dialog");
    dialog.querySelector("[name=until]").value = (customer.snoozed_until || "").slice(0, 10);
    dialog.returnValue = "";
    dialog.showModal();
    const choice = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
    const until = dialog.querySelector("[name=until]").value;
    if (!choice || (choice === "snooze" && !until)) return;
    try {
      const path = `/api/customers/${customer.id}/snooze`;
      await (choice === "snooze" ? api("PUT", path, { until }) : api("DELETE", path));
      toast(t(choice === "snooze" ? "grid.snoozed" : "settings.saved"));
      grid.load();
    } catch (error) {
      fail(error);
    }
  }
  if (action === "delete") {
    const who = `${customer.name || ""} <${customer.email}>`.trim();
    if (!(await confirmAction(t("grid.confirm_delete", { who })))) return;
    try {
      await api("DELETE", `/api/customers/${customer.id}`);
      toast(t("grid.deleted"));
      grid.load();
    } catch (error) {
      fail(error);
    }
  }
}

const customers = new Grid(document.getElementById("customers-grid"), { onSelect: selectCustomer, onAction: gridAction });
const followup = new Grid(document.getElementById("followup-grid"), { onSelect: selectCustomer, onAction: gridAction });
activeGrid = customers;
customers.load();

// Follow-up: the rule's controls live in the config table (R-FU2).
const rule = document.getElementById("followup-rule");
const ruleFields = () => [...rule.elements].filter((field) => field.name);
let followupLoaded = false;
tabs.onShow.set("customers", () => { activeGrid = customers; });
tabs.onShow.set("followup", async () => {
  activeGrid = followup;
  if (followupLoaded) return;
  followupLoaded = true;
  try {
    const values = await get("/api/settings");
    for (const field of ruleFields()) field.value = values[field.name];
  } catch (error) {
    fail(error);
  }
  followup.load();
});
// 待回复 is a second view of the same grid: its source and hours change, the grid stays.
const view = document.getElementById("followup-view");
view.addEventListener("change", () => {
  const hours = view.elements.hours.value || "0";
  const source = view.elements.view.value;
  followup.source = source.endsWith("awaiting-reply") ? `${source}?hours=${encodeURIComponent(hours)}` : source;
  document.getElementById("export-awaiting").href = `/export/customers.csv?type=awaiting&hours=${encodeURIComponent(hours)}`;
  rule.hidden = !source.endsWith("followup");
  followup.change({ page: 1, sort: "id", order: "asc" });
});
rule.addEventListener("submit", async (event) => {
  event.preventDefault();
  const changes = Object.fromEntries(ruleFields().map((field) => [field.name, field.value]));
  try {
    await api("PATCH", "/api/settings", changes);
    toast(t("settings.saved"));
    followup.change({ page: 1 });
  } catch (error) {
    fail(error);
  }
});

// Statistics: loaded when the tab is shown, and on "refresh".
async function loadStats() {
  try {
    const response = await fetch("/stats?part=content", { headers: { Accept: "text/html" } });
    document.getElementById("stats-content").innerHTML = await response.text();
  } catch (error) {
    fail(error);
  }
}
tabs.onShow.set("stats", loadStats);
document.querySelector("[data-action='refresh-stats']").addEventListener("click", loadStats);

const logs = new Map();

function openLog(job, title) {
  const view = logs.get(job) ?? logView(job);
  logs.set(job, view);
  tabs.open(`log-${job}`, title, () => view.element, {
    onShow: () => view.start(),
    onClose: () => {
      view.stop();
      logs.delete(job);
    },
  });
}

function openSync() {
  const view = syncView();
  tabs.open("sync", t("menu.sync"), () => view.element, { onShow: () => view.start() });
}

async function openHelp() {
  tabs.open("help", t("menu.help"), () => {
    const box = document.createElement("div");
    box.className = "help-box";
    fetch("/help?part=content", { headers: { Accept: "text/html" } })
      .then((response) => response.text())
      .then((html) => { box.innerHTML = html; })
      .catch(fail);
    return box;
  });
}

function applyTheme(name) {
  document.documentElement.dataset.theme = name;
  for (const item of document.querySelectorAll("[data-action='theme']")) {
    item.setAttribute("aria-checked", String(item.dataset.theme === name));
  }
  api("PATCH", "/api/settings", { theme: name }).catch(fail);
}

wireMenus((action, item, event) => {
  if (action === "export-current") {
    event.preventDefault();
    window.location.assign(activeGrid.exportUrl());
  }
  if (action === "notices") {
    panel.open();
    panel.showNotices();
  }
  if (action === "messages") {
    panel.open();
    if (selected) panel.showCustomer(selected);
    else panel.showNotices();
  }
  if (action === "log") openLog(item.dataset.job, item.textContent);
  if (action === "sync") openSync();
  if (action === "settings") settingsDialog.open();
  if (action === "theme") applyTheme(item.dataset.theme);
  if (action === "help") openHelp();
  if (action === "about") document.getElementById("about-dialog").showModal();
  if (action === "upload") document.dispatchEvent(new CustomEvent("mycrm:upload"));
});

wireImport(() => {
  customers.load();
  followup.load();
});

wireJobStatus(document.getElementById("job-status"), openLog);

// On opening, the panel shows the system notices (R-CU5).
panel.showNotices();
