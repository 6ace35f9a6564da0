"""Every word the UI shows, in Simplified Chinese (MyCRM's labels) and English. Templates use
them through t(); the browser code gets the same catalog in the page. The names of fields,
settings, validities, message types and jobs come from the model."""

from mycrmd.model.customer import FIELDS, VALIDITY_LABELS
from mycrmd.model.followup import DUE_RULE_LABELS, REASON_COLUMNS
from mycrmd.model.history import SOURCE_LABELS
from mycrmd.model.jobs import JOB_LABELS, RUN_STATUS_LABELS
from mycrmd.model.message import MESSAGE_TYPE_LABELS
from mycrmd.model.settings import SETTINGS
from mycrmd.model.words import Text

TEXTS: dict[str, tuple[str, str]] = {
    "app.title": ("MyCRM 客户关系管理", "MyCRM"),
    "app.offline": ("数据库暂时不可用，正在重试…", "The database is unavailable; retrying…"),
    "app.error": ("出错了", "Something went wrong"),
    # Menus (R-UI1)
    "menu.data": ("数据管理", "Data"),
    "menu.export_all": ("导出所有客户记录", "Export all customers"),
    "menu.export_valid": ("导出有效客户记录", "Export valid customers"),
    "menu.export_invalid": ("导出无效客户记录", "Export invalid customers"),
    "menu.export_current": ("导出当前列表记录", "Export the list as shown"),
    "menu.export_followup": ("导出待跟进客户记录", "Export customers due for follow-up"),
    "menu.export_awaiting": ("导出待回复客户记录", "Export customers awaiting our reply"),
    "menu.template": ("下载导入模板", "Download the import template"),
    "menu.upload": ("批量上传客户记录", "Upload customers"),
    "menu.logs": ("系统日志", "Logs"),
    "menu.notices": ("系统通知消息", "System notices"),
    "menu.log_verify": ("客户邮箱有效性检查日志", "Address verification log"),
    "menu.log_fetch": ("邮箱近期邮件的监控日志", "Mail fetch log"),
    "menu.log_backup": ("数据备份日志", "Backup log"),
    "menu.sync": ("邮件同步状态", "Mail sync status"),
    "menu.settings": ("设置", "Settings"),
    "menu.parameters": ("参数设置", "Parameters"),
    "menu.theme": ("外观主题", "Theme"),
    "menu.logout": ("退出登录", "Log out"),
    # Login (security)
    "login.title": ("登录", "Log in"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.wrong": ("密码错误", "Wrong password"),
    "login.too_many": (
        "失败次数过多，请 {seconds} 秒后再试",
        "Too many failed attempts; try again in {seconds} s",
    ),
    "menu.help": ("帮助", "Help"),
    "menu.about": ("关于", "About"),
    "menu.messages": ("我的消息", "My messages"),
    "theme.default": ("默认", "Default"),
    "theme.gray": ("灰色", "Gray"),
    "theme.black": ("黑色", "Dark"),
    "theme.metro": ("Metro", "Metro"),
    # Tabs
    "tab.customers": ("客户管理", "Customers"),
    "tab.followup": ("待跟进客户", "Follow-up"),
    "tab.stats": ("数据统计", "Statistics"),
    "tab.close": ("关闭", "Close"),
    # Grids (R-CU1, R-CU2)
    "grid.search": ("搜索", "Search"),
    "grid.search_hint": ("联系人、邮箱、公司、国家、电话", "name, email, company, country, phone"),
    "grid.only_valid": ("只显示有效客户", "Only valid customers"),
    "grid.add": ("添加", "Add"),
    "grid.edit": ("修改", "Edit"),
    "grid.delete": ("删除", "Delete"),
    "grid.comment": ("编辑备注", "Edit comment"),
    "grid.refresh": ("刷新", "Refresh"),
    "grid.columns": ("显示列", "Columns"),
    "grid.per_page": ("每页", "Per page"),
    "grid.page": ("页", "Page"),
    "grid.of": ("共 {pages} 页", "of {pages}"),
    "grid.total": ("共 {total} 条记录", "{total} records"),
    "grid.first": ("首页", "First"),
    "grid.prev": ("上一页", "Previous"),
    "grid.next": ("下一页", "Next"),
    "grid.last": ("末页", "Last"),
    "grid.loading": ("加载中…", "Loading…"),
    "grid.empty": ("没有记录", "No records"),
    "grid.save": ("保存", "Save"),
    "grid.cancel": ("取消", "Cancel"),
    "grid.saved": ("已保存", "Saved"),
    "grid.deleted": ("已删除", "Deleted"),
    "grid.confirm_delete": ("确定删除客户 {who}？", "Delete the customer {who}?"),
    "grid.select_first": ("请先选择一个客户", "Select a customer first"),
    "grid.legend_unconfirmed": ("有效性未确认", "validity unconfirmed"),
    "grid.legend_invalid": ("无效邮箱", "invalid address"),
    "grid.inline_hint": (
        "双击行可直接修改；备注和最近联系时间不能在此修改",
        "Double-click a row to edit it; the comment and last contact cannot be changed there",
    ),
    # Follow-up (R-FU2)
    "followup.rule": ("跟进规则：", "Rule:"),
    "followup.importance": ("客户评级", "importance"),
    "followup.and": ("，且超过", ", and for more than"),
    "followup.days": ("天未联系", "days without a mail"),
    "followup.save": ("保存规则", "Save the rule"),
    "followup.never": ("从未", "never"),
    "page.date": ("日期", "Date"),
    "page.type": ("类型", "Type"),
    "page.sender": ("发件人", "Sender"),
    "page.subject": ("主题", "Subject"),
    "page.mails": ("邮件（按日期）", "Mails (by date)"),
    "page.colleagues": ("同公司联系人", "Colleagues at the same company"),
    "page.contacts": ("联系人", "Contacts"),
    "followup.awaiting": ("待回复", "Awaiting our reply"),
    "followup.hours": ("等待超过（小时）", "Waiting over (hours)"),
    "grid.snooze": ("暂缓", "Snooze"),
    "grid.snooze_hint": (
        "到某日之前不再出现在待跟进和待回复中",
        "Hide from follow-up and awaiting reply until a day",
    ),
    "grid.snooze_until": ("暂缓至", "Until"),
    "grid.snooze_clear": ("取消暂缓", "End the snooze"),
    "grid.snoozed": ("已暂缓", "Snoozed"),
    "followup.cadence_hint": (
        '按评级设置间隔时，只跟进列出的评级，如 {"5": 14, "4": 21}；留空则使用上面的规则',
        'With intervals by rating only the listed ratings are followed up, e.g. {"5": 14, "4": 21};'
        " empty: the rule above",
    ),
    # Side panel and messages (R-CU4, R-CU5)
    "panel.title": ("消息", "Messages"),
    "panel.notices": ("系统通知消息", "System notices"),
    "panel.of": ("{who} 的消息", "Messages of {who}"),
    "panel.collapse": ("收起", "Collapse"),
    "panel.back": ("返回列表", "Back to the list"),
    "panel.images": ("显示远程图片", "Show remote images"),
    "panel.images_blocked": ("远程图片已屏蔽", "Remote images are blocked"),
    "panel.none": ("没有消息", "No messages"),
    "history.title": ("历史", "History"),
    "history.none": ("没有变更记录", "No changes recorded"),
    "history.mail": ("查看邮件", "Show the mail"),
    "history.why": ("原因：{reason}", "Why: {reason}"),
    # Mail search (issue 18)
    "search.mail": ("邮件搜索", "Search mail"),
    "search.go": ("搜索", "Search"),
    "search.clear": ("清除", "Clear"),
    "search.found": ("找到 {total} 封邮件", "{total} mails found"),
    "search.capped": (
        "找到 1000 封以上邮件，只列出最新的",
        "over 1000 mails found; the newest listed",
    ),
    "search.scan": (
        "数据库没有 Mroonga 全文索引，搜索较慢",
        "the database has no Mroonga full-text index: searching is slower",
    ),
    "msg.date": ("时间", "Date"),
    "msg.type": ("类型", "Type"),
    "msg.sender": ("发件人", "From"),
    "msg.subject": ("主题", "Subject"),
    "msg.to": ("收件人", "Addresses"),
    # Dialogs
    "dialog.add": ("添加客户", "Add a customer"),
    "dialog.edit": ("修改客户", "Edit the customer"),
    "dialog.comment": ("编辑备注", "Edit the comment"),
    "dialog.confirm": ("请确认", "Please confirm"),
    "dialog.ok": ("确定", "OK"),
    "editor.bold": ("粗体", "Bold"),
    "editor.italic": ("斜体", "Italic"),
    "editor.underline": ("下划线", "Underline"),
    "editor.bullets": ("项目符号", "Bullets"),
    "editor.numbers": ("编号", "Numbering"),
    "editor.link": ("链接", "Link"),
    "editor.unlink": ("取消链接", "Remove link"),
    "editor.color": ("颜色", "Colour"),
    "editor.link_prompt": ("链接地址（https://…）", "Link address (https://…)"),
    "editor.limit": (
        "最多 {limit} 个字符（含格式）",
        "At most {limit} characters, formatting included",
    ),
    # Settings (R-UI2)
    "settings.title": ("参数设置", "Parameters"),
    "settings.password_set": ("已设置；留空则不修改", "Set; leave empty to keep it"),
    "settings.password_unset": ("未设置", "Not set"),
    "settings.password_clear": ("清除已保存的密码", "Clear the saved password"),
    "settings.skip": ("不同步的文件夹", "Folders not synced"),
    "settings.skip_separator": ("、", ", "),
    "settings.skip_none": ("无（全部同步）", "none (every folder is synced)"),
    "settings.skip_where": (
        "（在配置文件的 [mailbox] skip 中修改）",
        "(changed in the configuration file, [mailbox] skip)",
    ),
    "settings.language.auto": ("跟随浏览器", "As the browser"),
    "settings.language.zh": ("简体中文", "简体中文"),
    "settings.language.en": ("English", "English"),
    "settings.saved": ("设置已保存", "Settings saved"),
    # Logs and jobs (R-JOB6)
    "log.refresh": ("每 5 秒自动刷新，显示最近 500 行", "Refreshes every 5 s; the last 500 lines"),
    "log.run_now": ("立即运行", "Run now"),
    "log.started": ("已开始运行", "Started"),
    "log.queued": ("正在运行，结束后将再运行一次", "Running; it will run once more"),
    "log.running": ("运行中", "Running"),
    "log.next": ("下次运行", "Next run"),
    "log.last": ("上次运行", "Last run"),
    "log.empty": ("日志为空", "The log is empty"),
    "jobs.status": ("各任务上次运行", "Each job's last run"),
    "jobs.detail": ("：{detail}", ": {detail}"),
    "jobs.open_log": ("打开日志", "Open the log"),
    "sync.folder": ("文件夹", "Folder"),
    "sync.on_server": ("服务器上", "On the server"),
    "sync.stored": ("已保存", "Stored"),
    "sync.duplicate": ("重复跳过", "Duplicates"),
    "sync.excluded": ("排除的文件夹", "Excluded folder"),
    "sync.older": ("早于监控天数", "Older than the window"),
    "sync.unreadable": ("无法读取", "Unreadable"),
    "sync.missing": ("缺失", "Missing"),
    "sync.last_sync": ("上次同步", "Last sync"),
    "sync.push": ("实时推送", "Push"),
    "sync.yes": ("是", "yes"),
    "sync.totals": ("已核对 {checked} 封，缺失 {missing}", "{checked} checked, {missing} missing"),
    "sync.none": ("尚未同步邮件", "No mail synced yet"),
    # Statistics (R-ST1)
    "stats.importance": ("客户评级及有效性", "Customers by importance and validity"),
    "stats.weekly": ("近 20 周收发邮件", "Mail sent and received, the last 20 weeks"),
    "stats.level": ("评级", "Level"),
    "stats.no_mail": ("暂无邮件数据", "No mail yet"),
    "stats.refresh": ("刷新统计", "Refresh"),
    # Import (R-IO2)
    "import.title": ("批量上传客户记录", "Upload customers"),
    "import.help": (
        "CSV 文件：UTF-8、UTF-16 或 GBK 编码；逗号、分号或制表符分隔；"
        "表头与导出相同（中文）或英文。已有邮箱更新该客户，新邮箱新增客户；"
        "空单元格不会覆盖已有内容；一格可写多个邮箱。",
        "A CSV file: UTF-8, UTF-16 or GBK; comma, semicolon or tab; the export's (Chinese) or "
        "English headers. A known address updates its customer, a new one adds a customer; "
        "empty cells never overwrite; a cell may hold several addresses.",
    ),
    "import.file": ("CSV 文件", "CSV file"),
    "import.dry_run": ("只检查，不导入", "Check only, change nothing"),
    "import.start": ("上传", "Upload"),
    "import.uploading": ("上传中… {percent}%", "Uploading… {percent}%"),
    "import.processing": ("处理中… 已读 {rows} 行", "Processing… {rows} rows read"),
    "import.done": (
        "完成：共 {rows} 行，新增 {inserted}，更新 {updated}，未变 {unchanged}，"
        "拒绝 {rejected}（{encoding}）",
        "Done: {rows} rows, {inserted} new, {updated} updated, {unchanged} unchanged, "
        "{rejected} rejected ({encoding})",
    ),
    "import.checked": (
        "检查完成，未写入：共 {rows} 行，将新增 {inserted}，"
        "更新 {updated}，未变 {unchanged}，拒绝 {rejected}（{encoding}）",
        "Checked, nothing written: {rows} rows, {inserted} would be new, {updated} updated, "
        "{unchanged} unchanged, {rejected} rejected ({encoding})",
    ),
    "import.ignored": ("忽略的列：{columns}", "Columns ignored: {columns}"),
    "import.duplicates": (
        "{count} 个地址在文件中出现多次，以后面的行为准",
        "{count} addresses appear more than once; the later row wins",
    ),
    "import.rejected_csv": (
        "下载被拒绝的行（CSV），修改后可重新上传",
        "Download the rejected rows (CSV) to fix",
    ),
    "import.row": ("行", "Row"),
    "import.field": ("字段", "Field"),
    "import.reason": ("原因", "Reason"),
    "import.error_column": ("错误原因", "Error"),
    "import.choose_first": ("请先选择文件", "Choose a file first"),
    # Help and about
    "about.title": ("关于 MyCRM", "About MyCRM"),
    "about.version": ("版本", "Version"),
    "about.text": (
        "MyCRM 是一个定制化的客户关系管理系统，mycrmd 是它的守护进程版本。",
        "MyCRM is a small CRM for a trading business; mycrmd is its daemon.",
    ),
    "about.licence": (
        "本程序是自由软件，依照 GNU 通用公共许可证第 3 版或更新版本发布，不提供任何担保。",
        "This program is free software under the GNU General Public License, version 3 or "
        "later, and comes with no warranty.",
    ),
    "about.licence_link": ("阅读许可证全文", "Read the licence"),
}


def _pair(text: Text) -> tuple[str, str]:
    return (text.zh, text.en)


TEXTS.update({f"column.{field.name}": _pair(field.label) for field in FIELDS})
TEXTS.update({f"column.{name}": _pair(label) for name, label in REASON_COLUMNS.items()})
TEXTS.update({f"due.{rule}": _pair(label) for rule, label in DUE_RULE_LABELS.items()})
TEXTS.update({f"valid.{int(v)}": _pair(label) for v, label in VALIDITY_LABELS.items()})
TEXTS.update({f"msg.type.{kind}": _pair(label) for kind, label in MESSAGE_TYPE_LABELS.items()})
TEXTS.update({f"history.source.{s}": _pair(label) for s, label in SOURCE_LABELS.items()})
TEXTS.update({f"job.{job}": _pair(label) for job, label in JOB_LABELS.items()})
TEXTS.update({f"run.{status}": _pair(label) for status, label in RUN_STATUS_LABELS.items()})
TEXTS.update({f"settings.{setting.name}": _pair(setting.label) for setting in SETTINGS})


def catalog(language: str) -> dict[str, str]:
    index = 0 if language == "zh" else 1
    return {key: pair[index] for key, pair in TEXTS.items()}
