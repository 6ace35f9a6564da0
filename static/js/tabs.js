// The tabs in the middle: three fixed (customers, follow-up, statistics) and the ones menus
// open (logs, help), which can be closed.
import { t } from "./i18n.js";

export class Tabs {
  constructor(root) {
    this.root = root;
    this.strip = root.querySelector(".tab-strip");
    this.onShow = new Map();
    this.onClose = new Map();
    this.strip.addEventListener("click", (event) => {
      const close = event.target.closest(".tab-close");
      const tab = event.target.closest("[data-tab]");
      if (close) this.close(close.dataset.close);
      else if (tab) this.show(tab.dataset.tab);
    });
  }

  show(name) {
    for (const tab of this.strip.querySelectorAll("[data-tab]")) {
      tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    }
    for (const panel of this.root.querySelectorAll(".tab-panel")) {
      panel.hidden = panel.id !== `panel-${name}`;
    }
    this.onShow.get(name)?.();
  }

  // A closable tab: opened once, shown again when asked for again.
  open(name, title, build, { onShow, onClose } = {}) {
    if (!this.strip.querySelector(`[data-tab="${CSS.escape(name)}"]`)) {
      const tab = document.createElement("button");
      tab.type = "button";
      tab.role = "tab";
      tab.className = "tab closable";
      tab.dataset.tab = name;
      tab.textContent = title;
      const close = document.createElement("span");
      close.className = "tab-close";
      close.dataset.close = name;
      close.title = t("tab.close");
      close.textContent = "×";
      tab.append(close);
      this.strip.append(tab);
      const panel = document.createElement("section");
      panel.className = "tab-panel";
      panel.id = `panel-${name}`;
      panel.role = "tabpanel";
      panel.append(build());
      this.root.append(panel);
      if (onShow) this.onShow.set(name, onShow);
      if (onClose) this.onClose.set(name, onClose);
    }
    this.show(name);
  }

  close(name) {
    this.onClose.get(name)?.();
    this.onShow.delete(name);
    this.onClose.delete(name);
    this.strip.querySelector(`[data-tab="${CSS.escape(name)}"]`)?.remove();
    document.getElementById(`panel-${name}`)?.remove();
    this.show("customers");
  }
}
