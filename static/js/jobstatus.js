// Beside 系统日志: each job's last run, its status and when, refreshed every ten seconds, so a
// failed fetch (and with it a stale follow-up list) is never silent. A click opens its log.
import { get } from "./api.js";
import { lang, t } from "./i18n.js";

const REFRESH_MS = 10000;
const TROUBLE = new Set(["failed", "interrupted"]);

export function wireJobStatus(box, openLog) {
  async function refresh() {
    let jobs;
    try {
      ({ jobs } = await get("/api/jobs"));
    } catch {
      return; // the offline banner says so; the last known status stays
    }
    box.replaceChildren(...jobs.filter((job) => job.runs.length).map((job) => badge(job, openLog)));
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
}

// A skipped run says nothing about a job's health: the last run that did something counts.
function badge(job, openLog) {
  const run = job.runs.find((item) => item.status !== "skipped") || job.runs[0];
  const item = document.createElement("button");
  item.type = "button";
  item.className = `job-badge job-${run.status}`;
  item.dataset.job = job.name;
  const name = t(`job.${job.name}`);
  const detail = TROUBLE.has(run.status) ? reason(run.summary) : "";
  const text = `${name}${t(`run.${run.status}`)}${detail ? t("jobs.detail", { detail }) : ""}`;
  item.textContent = `${text} (${when(run.finished_at || run.started_at)})`;
  item.title = `${text}\n${t("jobs.open_log")}`;
  item.addEventListener("click", () => openLog(job.name, t(`menu.log_${job.name}`)));
  return item;
}

// A refusal's hint in the page's language (the mail providers give one), else the error.
function reason(summary) {
  const hint = summary.hint && (summary.hint[lang] || summary.hint.zh);
  return hint || summary.error || summary.reason || "";
}

// "HH:MM" for today, "MM-DD HH:MM" before, from the API's "YYYY-MM-DD HH:MM:SS".
function when(stamp) {
  const [date, time] = stamp.split(" ");
  const today = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const local = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
  return date === local ? time.slice(0, 5) : `${date.slice(5)} ${time.slice(0, 5)}`;
}
