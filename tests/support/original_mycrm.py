"""A database as the original MyCRM created it: its four tables as its README describes them,
in 3-byte utf8 and without the unique keys mycrmd adds."""

from mycrmd.store.pool import Pool, execute

ORIGINAL_TABLES = [
    """CREATE TABLE config (
        parameter VARCHAR(45),
        value TEXT
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8""",
    """CREATE TABLE customers (
        id INT(11) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(128),
        email VARCHAR(256),
        importance TINYINT(3) UNSIGNED,
        company VARCHAR(128),
        country VARCHAR(30),
        address VARCHAR(256),
        phone VARCHAR(30),
        website VARCHAR(256),
        comment VARCHAR(512),
        last_contact_date DATETIME,
        last_checked_date DATETIME,
        last_checked_log VARCHAR(256),
        valid TINYINT UNSIGNED
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8""",
    """CREATE TABLE messages (
        id INT(11) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        sender VARCHAR(256),
        date DATETIME,
        type ENUM('receive','sendto','comment','system'),
        subject VARCHAR(256),
        content LONGTEXT
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8""",
    """CREATE TABLE msg_addrs (
        id INT(11) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        msg_id INT(11) UNSIGNED,
        address VARCHAR(256),
        FOREIGN KEY (msg_id) REFERENCES messages (id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8""",
]


async def create_original_database(pool: Pool) -> None:
    for statement in ORIGINAL_TABLES:
        await execute(pool, statement)
    await execute(
        pool,
        "INSERT INTO config (parameter, value) VALUES "
        "('followup_days', '45'), ('theme', 'black'), ('mail_host', 'imap.example.com'), "
        "('mail_checked_date', '2024-05-01 10:00:00')",
    )
    await execute(
        pool,
        "INSERT INTO customers (name, email, importance, company, country, comment, "
        "last_contact_date, valid) VALUES "
        "('张三', 'zhang@example.cn', 4, '上海贸易有限公司', '中国', '<b>老客户</b>', "
        "'2024-04-01 09:30:00', 1), "
        "('John Smith', 'john@example.com', 2, 'Smith & Co', 'UK', NULL, NULL, 2), "
        "('Bad', 'bad@example.org', 0, '', NULL, NULL, NULL, 0)",
    )
    await execute(
        pool,
        "INSERT INTO messages (sender, date, type, subject, content) VALUES "
        "('张三', '2024-04-01 09:30:00', 'receive', '询价', '<p>你好</p>')",
    )
    await execute(pool, "INSERT INTO msg_addrs (msg_id, address) VALUES (1, 'zhang@example.cn')")
