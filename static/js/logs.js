// A job's log in a tab (R-JOB6): the last 500 lines, newest last, refreshed every five
// seconds while the tab is open, with the job's state and a "run now" button.
import { api, get } from "./api.js";
import { t } from "./i18n.js";
import { fail, toast } from "./ui.js";

const REFRESH_MS = 5000;

export function logView(job) {
  const box = document.createElement("div");
  box.className = "log-view";
  const head = document.createElement("div");
  head.className = "log-head";
  const state = document.createElement("span");
  state.className = "job-state";
  const run = document.createElement("button");
  run.type = "button";
  run.textContent = t("log.run_now");
  run.addEventListener("click", async () => {
    try {
      const result = await api("POST", `/api/jobs/${job}/run`);
      toast(t(result.outcome === "started" ? "log.started" : "log.queued"));
      refresh();
    } catch (error) {
      fail(error);
    }
  });
  const hint = document.createElement("span");
  hint.className = "muted";
  hint.textContent = t("log.refresh");
  head.append(state, run, hint);
  const lines = document.createElement("pre");
  lines.className = "log-lines";
  lines.tabIndex = 0;
  box.append(head, lines);

  async function refresh() {
    try {
      const [log, jobs] = await Promise.all([get(`/api/logs/${job}`), get("/api/jobs")]);
      const atBottom = lines.scrollHeight - lines.scrollTop - lines.clientHeight < 40;
      lines.textContent = log.lines.length ? log.lines.join("\n") : t("log.empty");
      if (atBottom) lines.scrollTop = lines.scrollHeight;
      const status = jobs.jobs.find((item) => item.name === job);
      if (status) state.textContent = describe(status);
    } catch (error) {
      fail(error);
    }
  }

  let timer = 0;
  return {
    element: box,
    start() {
      refresh();
      clearInterval(timer);
      timer = setInterval(refresh, REFRESH_MS);
    },
    stop() {
      clearInterval(timer);
    },
  };
}

function describe(status) {
  const parts = [t(`job.${status.name}`)];
  if (status.running) parts.push(status.state || t("log.running"));
  else if (status.next_due) parts.push(`${t("log.next")}: ${status.next_due}`);
  const last = status.runs[0];
  if (last) parts.push(`${t("log.last")}: ${last.started_at} ${t(`run.${last.status}`)}`);
  return parts.join(" · ");
}
