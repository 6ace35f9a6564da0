// A customer grid (R-CU1, R-CU2): search, "only valid", sorting by any column, paging,
// selection, and in-place editing on double-click. Rows and the total are fetched apart, so a
// page shows before its (slower) count arrives.
import { api, get } from "./api.js";
import { t } from "./i18n.js";
import { DEFAULT_COLUMNS, EDITABLE, FIELDS, KEY_COLUMNS, VALIDITY, fieldNamed } from "./model.js";
import { clearErrors, fail, plainText, toast } from "./ui.js";

// Edited in place; comment and last_contact_date never are (the API refuses them too).
const EDITABLE_NAMES = EDITABLE.map((item) => item.name);
// Cells that may be cut short: their whole text shows on hover.
const LONG = new Set(FIELDS.filter((item) => item.kind === "rich_text" || item.length >= 256).map((item) => item.name));
const template = document.getElementById("grid-template");
// On a phone only the key columns fit until the user adds more.
const NARROW = window.matchMedia("(max-width: 700px)");

export class Grid {
  constructor(root, { onSelect, onAction }) {
    this.root = root;
    this.source = root.dataset.source;
    this.onSelect = onSelect;
    this.onAction = onAction;
    this.state = { q: "", only_valid: false, sort: "id", order: "asc", page: 1, rows: 20 };
    this.rows = [];
    this.total = null;
    this.cursor = {}; // how the next load finds its page: by a neighbour row, or reversed
    this.selected = null;
    this.sequence = 0;
    root.append(template.content.cloneNode(true));
    this.body = root.querySelector("tbody");
    this.columns = [...root.querySelectorAll("thead th")].map((th) => th.dataset.sort);
    this.shown = this.storedColumns() ?? new Set(NARROW.matches ? KEY_COLUMNS : DEFAULT_COLUMNS);
    this.showColumns();
    if (root.dataset.kind === "followup") {
      root.querySelector(".only-valid").closest("label").hidden = true;
    } else {
      for (const th of root.querySelectorAll("thead th.reason")) th.remove();
    }
    // A reason column (follow-up) may sort by another column: its data-column names the cell.
    this.columns = [...root.querySelectorAll("thead th")].map((th) => th.dataset.column ?? th.dataset.sort);
    this.wire();
  }

  wire() {
    const root = this.root;
    let typing = 0;
    root.querySelector(".search").addEventListener("input", (event) => {
      clearTimeout(typing);
      typing = setTimeout(() => this.change({ q: event.target.value, page: 1 }), 300);
    });
    root.querySelector(".only-valid").addEventListener("change", (event) => {
      this.change({ only_valid: event.target.checked, page: 1 });
    });
    for (const th of root.querySelectorAll("thead th")) {
      th.querySelector("button").addEventListener("click", () => {
        const same = this.state.sort === th.dataset.sort;
        this.change({ sort: th.dataset.sort, order: same && this.state.order === "asc" ? "desc" : "asc", page: 1 });
      });
    }
    for (const box of root.querySelectorAll(".column-list input")) {
      box.addEventListener("change", () => this.chooseColumn(box.value, box.checked));
    }
    root.querySelector(".page-size").addEventListener("change", (event) => {
      this.change({ rows: Number(event.target.value), page: 1 });
    });
    root.querySelector(".page-number").addEventListener("change", (event) => {
      this.change({ page: this.clampPage(Number(event.target.value)) });
    });
    for (const button of root.querySelectorAll("[data-page]")) {
      button.addEventListener("click", () => this.turn(button.dataset.page));
    }
    for (const button of root.querySelectorAll(".grid-toolbar [data-action]")) {
      button.addEventListener("click", () => {
        if (button.dataset.action === "refresh") this.load();
        else this.onAction(button.dataset.action, this);
      });
    }
    this.body.addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-id]");
      if (row && !this.editing) this.select(Number(row.dataset.id));
    });
    this.body.addEventListener("dblclick", (event) => {
      const row = event.target.closest("tr[data-id]");
      if (row && !this.editing) this.startEditing(row);
    });
  }

  // The columns the user chose, remembered per grid in this browser (localStorage).
  storageKey() {
    return `mycrmd.columns.${this.root.dataset.kind}`;
  }

  storedColumns() {
    try {
      const names = JSON.parse(localStorage.getItem(this.storageKey()));
      return Array.isArray(names) ? new Set(names.filter((name) => this.columns.includes(name))) : null;
    } catch {
      return null;
    }
  }

  showColumns() {
    for (const th of this.root.querySelectorAll("thead th")) th.hidden = !this.shown.has(th.dataset.sort);
    for (const box of this.root.querySelectorAll(".column-list input")) box.checked = this.shown.has(box.value);
  }

  visibleColumns() {
    return this.columns.filter((name) => this.shown.has(name));
  }

  chooseColumn(name, shown) {
    if (shown) this.shown.add(name);
    else this.shown.delete(name);
    localStorage.setItem(this.storageKey(), JSON.stringify(this.visibleColumns()));
    this.showColumns();
    this.renderRows();
  }

  params(extra = {}) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...this.state, ...extra })) query.set(name, String(value));
    return query;
  }

  exportUrl() {
    const { q, only_valid, sort, order } = this.state;
    const query = { type: "current", list: this.root.dataset.kind, q, only_valid, sort, order };
    return `/export/customers.csv?${new URLSearchParams(query)}`;
  }

  change(changes, cursor = {}) {
    Object.assign(this.state, changes);
    this.cursor = cursor;
    this.load();
  }

  clampPage(page) {
    const pages = this.pages();
    return Math.min(Math.max(1, page || 1), pages ?? Math.max(page || 1, 1));
  }

  pages() {
    return this.total === null ? null : Math.max(1, Math.ceil(this.total / this.state.rows));
  }

  // Next and previous pages are found from the neighbouring row (keyset paging: as fast at
  // row a million as at row one); the last page is the first of the reversed order.
  turn(where) {
    const page = this.state.page;
    const pages = this.pages();
    const target = { first: 1, prev: page - 1, next: page + 1, last: pages ?? page }[where];
    if (!(target >= 1 && (pages === null || target <= pages) && target !== page)) return;
    if (where === "next" && this.rows.length) this.change({ page: target }, { after_id: this.rows.at(-1).id });
    else if (where === "prev" && this.rows.length) this.change({ page: target }, { before_id: this.rows[0].id });
    else if (where === "last" && pages > 1) {
      const rows = this.total - (pages - 1) * this.state.rows;
      const order = this.state.order === "asc" ? "desc" : "asc";
      this.change({ page: target }, { order, rows, page: 1, reverse: true });
    } else this.change({ page: target });
  }

  async load() {
    const sequence = ++this.sequence;
    this.root.classList.add("loading");
    this.renderHeader();
    const { reverse, ...cursor } = this.cursor;
    const join = this.source.includes("?") ? "&" : "?"; // a source may carry its own parameters
    const rowsCall = get(`${this.source}${join}${this.params({ total: false, ...cursor })}`);
    const totalCall = get(`${this.source}${join}${this.params({ rows: 0, page: 1 })}`);
    try {
      const data = await rowsCall;
      if (sequence !== this.sequence) return;
      this.rows = reverse ? data.rows.reverse() : data.rows;
      this.renderRows();
    } catch (error) {
      if (sequence === this.sequence) fail(error);
    } finally {
      if (sequence === this.sequence) this.root.classList.remove("loading");
    }
    try {
      const data = await totalCall;
      if (sequence !== this.sequence) return;
      this.total = data.total;
      this.renderPager();
    } catch (error) {
      if (sequence === this.sequence) fail(error);
    }
  }

  renderHeader() {
    for (const th of this.root.querySelectorAll("thead th")) {
      const sorted = th.dataset.sort === this.state.sort;
      th.setAttribute("aria-sort", sorted ? (this.state.order === "asc" ? "ascending" : "descending") : "none");
      th.querySelector(".sort-mark").textContent = sorted ? (this.state.order === "asc" ? " ▲" : " ▼") : "";
    }
  }

  renderRows() {
    this.editing = null;
    this.body.replaceChildren();
    if (!this.rows.length) {
      const empty = this.body.insertRow();
      const cell = empty.insertCell();
      cell.colSpan = this.visibleColumns().length;
      cell.className = "empty";
      cell.textContent = t("grid.empty");
    }
    for (const customer of this.rows) {
      const row = this.body.insertRow();
      row.dataset.id = customer.id;
      row.classList.toggle("invalid", customer.valid === VALIDITY.invalid);
      row.classList.toggle("unconfirmed", customer.valid === VALIDITY.unconfirmed);
      row.classList.toggle("selected", customer.id === this.selected);
      if (customer.valid !== VALIDITY.valid && customer.last_checked_log) {
        row.title = t("history.why", { reason: customer.last_checked_log });
      }
      // A snooze shows until its day starts (server times are local, like the browser's).
      const snoozed = Boolean(customer.snoozed_until) && new Date(customer.snoozed_until.replace(" ", "T")) > new Date();
      row.classList.toggle("snoozed", snoozed);
      if (snoozed) row.title = `${t("grid.snoozed")} ${customer.snoozed_until.slice(0, 10)}`;
      for (const name of this.visibleColumns()) {
        const cell = row.insertCell();
        cell.className = `col-${name}`;
        cell.dataset.column = name;
        const text = this.display(customer, name);
        // The customer's and the company's own pages, bookmarkable, from every grid.
        const href = name === "id" ? `/customers/${customer.id}` : name === "company" && text ? `/companies/${encodeURIComponent(text)}` : "";
        if (href) {
          const link = document.createElement("a");
          link.href = href;
          link.textContent = text;
          cell.append(link);
        } else cell.textContent = text;
        if (LONG.has(name)) cell.title = cell.textContent;
      }
    }
    this.root.querySelector(".page-number").value = this.state.page;
  }

  renderPager() {
    const pages = this.pages();
    this.root.querySelector(".page-count").textContent = t("grid.of", { pages });
    this.root.querySelector(".total").textContent = t("grid.total", { total: this.total.toLocaleString() });
    this.root.querySelector(".page-number").max = pages;
    if (this.state.page > pages) this.change({ page: pages });
  }

  display(customer, name) {
    const value = customer[name];
    if (name === "due_rule") return t(`due.${value}`, { importance: customer.importance, days: customer.due_after_days });
    if (name === "days_since_contact" && value === null) return t("followup.never");
    if (value === null || value === undefined) return "";
    const field = fieldNamed(name);
    if (!field) return String(value);
    const { kind } = field;
    if (kind === "validity") return t(`valid.${value}`);
    if (kind === "rich_text") return plainText(value);
    return String(value);
  }

  selectedCustomer() {
    return this.rows.find((row) => row.id === this.selected) ?? null;
  }

  select(id) {
    this.selected = id;
    for (const row of this.body.rows) row.classList.toggle("selected", Number(row.dataset.id) === id);
    const customer = this.selectedCustomer();
    if (customer) this.onSelect(customer);
  }

  // In-place editing: the editable cells become inputs; Enter saves, Escape cancels.
  startEditing(row) {
    const customer = this.rows.find((item) => item.id === Number(row.dataset.id));
    this.select(customer.id);
    this.editing = { row, customer };
    row.classList.add("editing");
    for (const cell of row.cells) {
      const name = cell.dataset.column;
      if (!EDITABLE_NAMES.includes(name)) {
        cell.classList.add("read-only");
        continue;
      }
      cell.replaceChildren(this.editor(name, customer[name]));
    }
    const actions = this.body.insertRow(row.sectionRowIndex + 1);
    actions.className = "edit-actions";
    const cell = actions.insertCell();
    cell.colSpan = this.visibleColumns().length;
    // The buttons stick to the visible left edge however far the row scrolls sideways.
    const buttons = document.createElement("div");
    buttons.className = "edit-buttons";
    cell.append(buttons);
    const save = document.createElement("button");
    save.type = "button";
    save.className = "primary";
    save.textContent = t("grid.save");
    save.addEventListener("click", () => this.saveEditing());
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = t("grid.cancel");
    cancel.addEventListener("click", () => this.renderRows());
    const error = document.createElement("span");
    error.className = "form-error";
    error.dataset.for = "_";
    buttons.append(save, cancel, error);
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter") this.saveEditing();
      if (event.key === "Escape") this.renderRows();
    });
    const first = row.querySelector("input, select");
    first?.focus();
  }

  editor(name, value) {
    const { kind, choices } = fieldNamed(name);
    if (choices.length) {
      const select = document.createElement("select");
      for (const choice of choices) {
        select.add(new Option(kind === "validity" ? t(`valid.${choice}`) : String(choice), String(choice)));
      }
      select.value = String(value ?? "");
      select.name = name;
      return select;
    }
    const input = document.createElement("input");
    input.type = kind === "email" ? "email" : "text";
    input.name = name;
    input.value = value ?? "";
    return input;
  }

  async saveEditing() {
    const { row, customer } = this.editing;
    const changes = {};
    for (const field of row.querySelectorAll("input, select")) {
      const value = field.tagName === "SELECT" ? Number(field.value) : field.value;
      if (value !== (customer[field.name] ?? (field.tagName === "SELECT" ? null : ""))) changes[field.name] = value;
    }
    const actions = row.nextElementSibling;
    clearErrors(actions);
    for (const field of row.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    if (!Object.keys(changes).length) {
      this.renderRows();
      return;
    }
    try {
      const saved = await api("PATCH", `/api/customers/${customer.id}`, changes);
      Object.assign(customer, saved);
      toast(t("grid.saved"));
      this.renderRows();
      this.onSelect(customer);
    } catch (error) {
      actions.querySelector(".form-error").textContent = error.message;
      const field = row.querySelector(`[name="${CSS.escape(error.field ?? "")}"]`);
      field?.setAttribute("aria-invalid", "true");
      field?.focus();
    }
  }
}
