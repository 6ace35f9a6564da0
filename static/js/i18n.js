// The page's language and words, handed over by the server in #app's data attributes.
const app = document.getElementById("app");
const texts = JSON.parse(app.dataset.texts);

export const lang = app.dataset.lang;

export function t(key, values = {}) {
  let text = texts[key] ?? key;
  for (const [name, value] of Object.entries(values)) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}
