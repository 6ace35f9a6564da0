// The message side panel (R-CU4, R-CU5): system notices on opening, a customer's
// messages on request, one message's content in a sandboxed frame whose page blocks remote
// images until asked. Opened from the collapsed bar, it collapses when the pointer leaves.
import { get } from "./api.js";
import { t } from "./i18n.js";
import { fail } from "./ui.js";

export class SidePanel {
  constructor() {
    this.root = document.getElementById("side-panel");
    this.title = document.getElementById("side-title");
    this.rows = document.getElementById("message-rows");
    this.empty = document.getElementById("message-empty");
    this.listView = document.getElementById("message-list-view");
    this.messageView = document.getElementById("message-view");
    this.frame = document.getElementById("message-frame");
    this.history = document.getElementById("history-view");
    this.autoCollapse = false;
    this.current = null;
    // On a narrow screen the panel would cover the grid: it starts as its bar.
    if (window.matchMedia("(max-width: 1200px)").matches) this.collapse();
    document.getElementById("side-bar").addEventListener("click", () => this.open({ fromBar: true }));
    document.getElementById("side-collapse").addEventListener("click", () => this.collapse());
    document.getElementById("message-back").addEventListener("click", () => this.showList());
    document.getElementById("message-images").addEventListener("click", () => this.showImages());
    this.root.addEventListener("mouseleave", () => {
      if (this.autoCollapse) this.collapse();
    });
  }

  open({ fromBar = false } = {}) {
    this.root.dataset.state = "open";
    this.autoCollapse = fromBar;
  }

  collapse() {
    this.root.dataset.state = "collapsed";
    this.autoCollapse = false;
  }

  async showNotices() {
    await this.showList(t("panel.notices"), "/api/messages?type=system&rows=100");
  }

  async showCustomer(customer) {
    const who = customer.name || customer.email;
    await this.showList(t("panel.of", { who }), `/api/customers/${customer.id}/messages?rows=200`);
    await this.showHistory(customer.id);
  }

  // The 历史 section: every validity change of the customer, newest first, with a link to
  // the mail that caused it.
  async showHistory(customerId) {
    const rows = document.getElementById("history-rows");
    rows.replaceChildren();
    try {
      const data = await get(`/api/customers/${customerId}/history`);
      document.getElementById("history-empty").hidden = data.rows.length > 0;
      for (const change of data.rows) {
        const row = rows.insertRow();
        const label = change.field === "valid" ? (v) => t(`valid.${v}`) : (v) => v ?? "";
        for (const text of [change.at ?? "", t(`history.source.${change.source}`), `${label(change.old)} → ${label(change.new)}`, change.reason]) {
          row.insertCell().textContent = text;
        }
        const cell = row.insertCell();
        if (change.message_id) {
          const link = document.createElement("button");
          link.type = "button";
          link.className = "link";
          link.textContent = t("history.mail");
          link.addEventListener("click", () => this.showMessage(change.message_id));
          cell.append(link);
        }
      }
      this.history.hidden = false;
    } catch (error) {
      fail(error);
    }
  }

  async showList(title, url) {
    this.messageView.hidden = true;
    this.listView.hidden = false;
    this.frame.removeAttribute("src");
    if (!title) return;
    this.history.hidden = true;
    this.title.textContent = title;
    try {
      const data = await get(url);
      this.render(data.rows);
      document.getElementById("message-count").textContent = data.total;
    } catch (error) {
      fail(error);
    }
  }

  render(messages) {
    this.rows.replaceChildren();
    this.empty.hidden = messages.length > 0;
    for (const message of messages) {
      const row = this.rows.insertRow();
      row.dataset.id = message.id;
      row.tabIndex = 0;
      for (const text of [message.date ?? "", t(`msg.type.${message.type}`), message.sender ?? "", message.subject ?? ""]) {
        row.insertCell().textContent = text;
      }
      row.addEventListener("click", () => this.showMessage(message.id));
      row.addEventListener("keydown", (event) => {
        if (event.key === "Enter") this.showMessage(message.id);
      });
    }
  }

  async showMessage(id) {
    try {
      const message = await get(`/api/messages/${id}`);
      this.current = message;
      document.getElementById("message-subject").textContent = message.subject ?? "";
      document.getElementById("message-sender").textContent = message.sender ?? "";
      document.getElementById("message-date").textContent = message.date ?? "";
      document.getElementById("message-addresses").textContent = message.addresses.join(", ");
      document.getElementById("message-images").disabled = false;
      this.frame.src = `/messages/${id}/content`;
      this.listView.hidden = true;
      this.messageView.hidden = false;
    } catch (error) {
      fail(error);
    }
  }

  showImages() {
    if (!this.current) return;
    this.frame.src = `/messages/${this.current.id}/content?images=1`;
    document.getElementById("message-images").disabled = true;
  }
}
