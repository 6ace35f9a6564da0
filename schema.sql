-- mycrmd's schema: MyCRM's four tables with their original columns, plus mycrmd's own.
-- Every statement is idempotent. store/migrate.py runs this file on an empty database and on
-- one created by the original MyCRM alike; the unique keys an original database may lack
-- (customers.email, config.parameter) are added there, after a check for duplicates.

-- MyCRM's tables (R-DB1..R-DB4) -------------------------------------------------------

CREATE TABLE IF NOT EXISTS config (
  parameter VARCHAR(45) NOT NULL,
  value TEXT,
  UNIQUE KEY parameter (parameter)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS customers (
  id INT(11) UNSIGNED NOT NULL AUTO_INCREMENT,
  name VARCHAR(128),
  email VARCHAR(256) NOT NULL,
  importance TINYINT(3) UNSIGNED NOT NULL DEFAULT 0,
  company VARCHAR(128),
  country VARCHAR(30),
  address VARCHAR(256),
  phone VARCHAR(30),
  website VARCHAR(256),
  comment VARCHAR(512),
  last_contact_date DATETIME,
  last_checked_date DATETIME,
  last_checked_log VARCHAR(256),
  valid TINYINT UNSIGNED NOT NULL DEFAULT 2,
  PRIMARY KEY (id),
  UNIQUE KEY email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS messages (
  id INT(11) UNSIGNED NOT NULL AUTO_INCREMENT,
  sender VARCHAR(256),
  date DATETIME,
  type ENUM('receive', 'sendto', 'comment', 'system'),
  subject VARCHAR(256),
  content LONGTEXT,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS msg_addrs (
  id INT(11) UNSIGNED NOT NULL AUTO_INCREMENT,
  msg_id INT(11) UNSIGNED NOT NULL,
  address VARCHAR(256) NOT NULL,
  PRIMARY KEY (id),
  KEY msg_id (msg_id),
  CONSTRAINT msg_addrs_message FOREIGN KEY (msg_id) REFERENCES messages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Indexes and nullable columns mycrmd adds to MyCRM's tables ---------------------------------

-- Verify candidates: never-checked (NULL sorts first) then least recently checked.
ALTER TABLE customers ADD INDEX IF NOT EXISTS last_checked (last_checked_date);
-- The follow-up rule: recent contacts per company, read from the index alone.
ALTER TABLE customers ADD INDEX IF NOT EXISTS followup (last_contact_date, valid, company);
-- Sorting the grid by the columns people sort by, without sorting a million rows.
ALTER TABLE customers ADD INDEX IF NOT EXISTS name (name);
ALTER TABLE customers ADD INDEX IF NOT EXISTS company (company);
ALTER TABLE customers ADD INDEX IF NOT EXISTS country (country);
ALTER TABLE customers ADD INDEX IF NOT EXISTS importance (importance);

-- One row per mail however many folders hold it: SHA-256 of the Message-ID, or of the
-- content when there is none.
ALTER TABLE messages ADD COLUMN IF NOT EXISTS dedupe_key BINARY(32) NULL;
ALTER TABLE messages ADD UNIQUE INDEX IF NOT EXISTS dedupe_key (dedupe_key);
ALTER TABLE messages ADD INDEX IF NOT EXISTS type_date (type, date);
ALTER TABLE messages ADD INDEX IF NOT EXISTS date (date);

ALTER TABLE msg_addrs ADD INDEX IF NOT EXISTS address_msg (address, msg_id);
ALTER TABLE msg_addrs ADD INDEX IF NOT EXISTS msg_id (msg_id);

-- mycrmd's own tables ------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT UNSIGNED NOT NULL,
  applied_at DATETIME NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- IMAP sync state per account and folder: fetch only UIDs above last_uid while the folder's
-- UIDVALIDITY is unchanged. Folder names are case-sensitive in IMAP, hence the binary collation.
CREATE TABLE IF NOT EXISTS mail_folders (
  account VARCHAR(255) NOT NULL,
  folder VARCHAR(255) NOT NULL,
  uidvalidity BIGINT UNSIGNED NOT NULL,
  last_uid BIGINT UNSIGNED NOT NULL,
  synced_at DATETIME,
  PRIMARY KEY (account, folder)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The ledger's evidence (migration step 3): what became of each UID of a folder within the
-- look-back window (model/folders.py UidOutcome). A UID on the server with no row is missing
-- and fetched again; rows of another UIDVALIDITY or of mails gone from the window are pruned.
CREATE TABLE IF NOT EXISTS mail_uids (
  account VARCHAR(255) NOT NULL,
  folder VARCHAR(255) NOT NULL,
  uidvalidity BIGINT UNSIGNED NOT NULL,
  uid BIGINT UNSIGNED NOT NULL,
  outcome VARCHAR(16) NOT NULL,
  PRIMARY KEY (account, folder, uid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS job_runs (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  job VARCHAR(20) NOT NULL,
  `trigger` VARCHAR(20) NOT NULL,
  started_at DATETIME NOT NULL,
  finished_at DATETIME,
  status ENUM('running', 'ok', 'failed', 'skipped', 'interrupted') NOT NULL,
  summary TEXT,
  pid INT UNSIGNED,
  PRIMARY KEY (id),
  KEY job_started (job, started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
