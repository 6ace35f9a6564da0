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

// Put an API error next to the field it names, or under the form.
export function showError(form, error) {
  const box = form.querySelector(`[data-for="${CSS.escape(error.field ?? "_")}"]`)
    ?? form.querySelector('[data-for="_"]');
  if (box) box.textContent = error.message;
  else fail(error);
  const input = error.field && form.elements.namedItem(error.field);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
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
