// The menu bar at the top right: a click opens a menu, a click elsewhere or Escape closes it.
export function wireMenus(onAction) {
  const menus = [...document.querySelectorAll(".menu")];
  const closeAll = () => {
    for (const menu of menus) {
      menu.querySelector(".menu-items").hidden = true;
      menu.querySelector(".menu-button").setAttribute("aria-expanded", "false");
    }
  };
  for (const menu of menus) {
    const button = menu.querySelector(".menu-button");
    const items = menu.querySelector(".menu-items");
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      const opening = items.hidden;
      closeAll();
      items.hidden = !opening;
      button.setAttribute("aria-expanded", String(opening));
    });
  }
  document.addEventListener("click", closeAll);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeAll();
  });
  for (const item of document.querySelectorAll(".menubar [data-action]")) {
    item.addEventListener("click", (event) => {
      closeAll();
      onAction(item.dataset.action, item, event);
    });
  }
}
