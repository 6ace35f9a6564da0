// Small pieces of feedback shared by every part of the UI.
import { t } from "./i18n.js";

const toastBox = document.getElementById("toast");
let toastTimer = 0;

export function toast(message, kind = "info") {
  toastBox.textContent = message;
  toastBox.dataset.kind = kind;
  toastBox.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toastBox.hidden = true; }, kind === "error" ? 6000 : 2500);
}

// A form's error replaces whatever the toast still says (e.g. an earlier "saved").
export function dismissToast() {
  clearTimeout(toastTimer);
  toastBox.hidden = true;
}

export function fail(error) {
  toast(error?.message || t("app.error"), "error");
}

export function confirmAction(text) {
  const dialog = document.getElementById("confirm-dialog");
  dialog.querySelector("#confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
  });
}

export function clearErrors(form) {
  for (const box of form.querySelectorAll(".field-error, .form-error")) box.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// Put an API error next to the field it names, or under the form; an error listing several
// refused fields (`fields`) marks each, focusing the first.
export function showError(form, error) {
  dismissToast();
  const each = error.details?.fields ?? [{ field: error.field, message: error.message }];
  for (const { field, message } of each) {
    const box = form.querySelector(`[data-for="${CSS.escape(field ?? "_")}"]`)
      ?? form.querySelector('[data-for="_"]');
    if (box) box.textContent = box.textContent ? `${box.textContent}；${message}` : message;
    else fail({ message });
    const input = field && form.elements.namedItem(field);
    input?.setAttribute?.("aria-invalid", "true");
  }
  const first = each[0].field && form.elements.namedItem(each[0].field);
  first?.focus?.();
}

// Dialogs close on their cancel buttons.
for (const button of document.querySelectorAll("dialog [data-close]")) {
  button.addEventListener("click", () => button.closest("dialog").close());
}

export function plainText(html) {
  const holder = document.createElement("template");
  holder.innerHTML = html ?? "";
  return holder.content.textContent.replace(/\s+/g, " ").trim();
}
