// Dialogs: a customer's form, the rich-text comment editor (R-CU3), the parameters
// (R-UI2) and the about box.
import { api, get } from "./api.js";
import { t } from "./i18n.js";
import { EDITABLE } from "./model.js";
import { clearErrors, fail, showError, toast } from "./ui.js";

export class CustomerDialog {
  constructor(onSaved) {
    this.dialog = document.getElementById("customer-dialog");
    this.form = document.getElementById("customer-form");
    this.onSaved = onSaved;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  open(customer = null) {
    this.customer = customer;
    clearErrors(this.form);
    document.getElementById("customer-dialog-title").textContent = t(customer ? "dialog.edit" : "dialog.add");
    for (const { name, default: fallback } of EDITABLE) {
      this.form.elements.namedItem(name).value = customer ? (customer[name] ?? "") : (fallback ?? "");
    }
    this.dialog.showModal();
    this.form.querySelector("input, select").focus();
  }

  async save() {
    clearErrors(this.form);
    const values = {};
    for (const { name, choices } of EDITABLE) {
      const raw = this.form.elements.namedItem(name).value;
      const value = choices.length ? Number(raw) : raw;
      if (!this.customer || value !== (this.customer[name] ?? "")) values[name] = value;
    }
    try {
      const saved = this.customer
        ? await api("PATCH", `/api/customers/${this.customer.id}`, values)
        : await api("POST", "/api/customers", values);
      this.dialog.close();
      toast(t("grid.saved"));
      this.onSaved(saved);
    } catch (error) {
      showError(this.form, error);
    }
  }
}

export class CommentEditor {
  constructor(onSaved) {
    this.dialog = document.getElementById("comment-dialog");
    this.form = document.getElementById("comment-form");
    this.editor = document.getElementById("comment-editor");
    this.length = document.getElementById("comment-length");
    this.onSaved = onSaved;
    for (const button of this.form.querySelectorAll("[data-command]")) {
      button.addEventListener("click", () => this.command(button.dataset.command));
    }
    document.getElementById("comment-color").addEventListener("input", (event) => {
      this.command("foreColor", event.target.value);
    });
    this.editor.addEventListener("input", () => this.count());
    // Typing a link address moves the selection away: keep the editor's last one.
    document.addEventListener("selectionchange", () => {
      const selection = window.getSelection();
      if (selection.rangeCount && this.editor.contains(selection.anchorNode)) {
        this.range = selection.getRangeAt(0).cloneRange();
      }
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  open(customer) {
    this.customer = customer;
    clearErrors(this.form);
    document.getElementById("comment-who").textContent = customer.name || customer.email;
    this.editor.innerHTML = customer.comment ?? ""; // sanitised when it was stored
    this.range = null;
    this.count();
    this.dialog.showModal();
    this.editor.focus();
  }

  command(name, value = null) {
    this.editor.focus();
    if (this.range) {
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(this.range);
    }
    // Colours as <font color>: the page's policy forbids style attributes.
    document.execCommand("styleWithCSS", false, false);
    if (name === "createLink") {
      const field = document.getElementById("comment-link");
      const address = field.value.trim();
      if (!address) return;
      value = /^(https?:|mailto:)/i.test(address) ? address : `https://${address}`;
      field.value = "";
    }
    document.execCommand(name, false, value);
    this.count();
  }

  count() {
    this.length.textContent = this.editor.innerHTML.length;
  }

  async save() {
    clearErrors(this.form);
    try {
      const saved = await api("PUT", `/api/customers/${this.customer.id}/comment`, { comment: this.editor.innerHTML });
      this.dialog.close();
      toast(t("grid.saved"));
      this.onSaved(saved);
    } catch (error) {
      showError(this.form, error);
    }
  }
}

export class SettingsDialog {
  constructor() {
    this.dialog = document.getElementById("settings-dialog");
    this.form = document.getElementById("settings-form");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  // The settings the form shows, as the server rendered them (model/settings.py), but the
  // password, which is only ever written.
  fields() {
    return [...this.form.elements].filter((field) => field.name && !("secret" in field.dataset));
  }

  secret() {
    return this.form.querySelector("[data-secret]");
  }

  language() {
    return this.form.elements.namedItem("language");
  }

  async open() {
    clearErrors(this.form);
    try {
      this.values = await get("/api/settings");
    } catch (error) {
      fail(error);
      return;
    }
    for (const field of this.fields()) field.value = this.values[field.name] ?? "";
    if (this.language().value === "") this.language().value = "auto";
    // What the form showed, so only what the user changed is sent: a new install's empty
    // language, shown as "auto", is not a change that reloads the page.
    this.shown = Object.fromEntries(this.fields().map((field) => [field.name, field.value.trim()]));
    this.secret().value = "";
    document.getElementById("s-password-clear").checked = false;
    document.getElementById("s-password-state").textContent = t(
      this.values[`${this.secret().name}_set`] ? "settings.password_set" : "settings.password_unset",
    );
    this.dialog.showModal();
  }

  async save() {
    clearErrors(this.form);
    const changes = {};
    for (const field of this.fields()) {
      const value = field.value.trim();
      if (value !== this.shown[field.name]) changes[field.name] = value;
    }
    const secret = this.secret();
    if (secret.value) changes[secret.name] = secret.value;
    else if (document.getElementById("s-password-clear").checked) changes[secret.name] = "";
    try {
      await api("PATCH", "/api/settings", changes);
      this.dialog.close();
      toast(t("settings.saved"));
      if ("language" in changes) window.location.reload();
    } catch (error) {
      showError(this.form, error);
    }
  }
}
