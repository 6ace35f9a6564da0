// The mail search in the side panel (issue 18): hits with their snippet, the matches wrapped
// in <mark> by the DOM (the snippet is plain text, never markup); a hit opens in the panel's
// sandboxed view. Without the server's index the search is a scan, said once per page.
import { get } from "./api.js";
import { t } from "./i18n.js";
import { fail } from "./ui.js";

export class MailSearch {
  constructor(panel) {
    this.panel = panel;
    this.input = document.getElementById("mail-search-q");
    this.hits = document.getElementById("mail-search-hits");
    this.list = document.getElementById("mail-search-list");
    this.total = document.getElementById("mail-search-total");
    this.scan = document.getElementById("mail-search-scan");
    this.clearButton = document.getElementById("mail-search-clear");
    this.table = document.querySelector("#message-list-view .message-list");
    this.scanSaid = false;
    document.getElementById("mail-search").addEventListener("submit", (event) => {
      event.preventDefault();
      this.search(this.input.value.trim());
    });
    this.clearButton.addEventListener("click", () => this.clear());
  }

  async search(q) {
    if (!q) return this.clear();
    try {
      const data = await get(`/api/messages?q=${encodeURIComponent(q)}&rows=100`);
      if (!data.indexed && !this.scanSaid) {
        this.scan.hidden = false;
        this.scanSaid = true;
      }
      this.render(data);
    } catch (error) {
      fail(error);
    }
  }

  render(data) {
    this.total.textContent = data.capped ? t("search.capped") : t("search.found", { total: data.total });
    this.list.replaceChildren(...data.rows.map((hit) => this.item(hit)));
    this.hits.hidden = false;
    this.clearButton.hidden = false;
    this.table.hidden = true;
    document.getElementById("message-empty").hidden = true;
  }

  item(hit) {
    const li = document.createElement("li");
    li.tabIndex = 0;
    li.dataset.id = hit.id;
    const head = document.createElement("div");
    head.className = "mail-hit-head";
    head.textContent = `${hit.date ?? ""} · ${t(`msg.type.${hit.type}`)} · ${hit.sender ?? ""}`;
    const subject = document.createElement("strong");
    subject.textContent = hit.subject ?? "";
    const snippet = document.createElement("p");
    snippet.className = "mail-hit-snippet";
    snippet.append(...marked(hit.snippet));
    li.append(subject, head, snippet);
    const open = () => this.panel.showMessage(hit.id);
    li.addEventListener("click", open);
    li.addEventListener("keydown", (event) => {
      if (event.key === "Enter") open();
    });
    return li;
  }

  clear() {
    this.input.value = "";
    this.list.replaceChildren();
    this.hits.hidden = true;
    this.clearButton.hidden = true;
    this.table.hidden = false;
  }
}

// Text nodes and <mark> elements from the snippet's text and [start, end) offsets.
function marked({ text, marks }) {
  const nodes = [];
  let at = 0;
  for (const [start, end] of marks) {
    if (start < at) continue;
    nodes.push(document.createTextNode(text.slice(at, start)));
    const mark = document.createElement("mark");
    mark.textContent = text.slice(start, end);
    nodes.push(mark);
    at = end;
  }
  nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}
