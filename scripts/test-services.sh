#!/usr/bin/env bash
# `make services`: the MariaDB and Redis the test suite runs against, ready, with a database user of the
# suite's own. On a fresh machine (packages installed by `make service-deps`) or after a reboot it starts
# what does not answer, creates the user and loads MariaDB's time-zone tables; when everything is set up it
# only checks, in well under a second.
#
# Settings (exported by the Makefile; defaults in brackets):
#   TEST_DB_HOST [127.0.0.1], TEST_DB_PORT [3306]        the server; a local one is started when it does not answer
#   TEST_DB_USER [paddleocr_test], TEST_DB_PASSWORD       the suite's login, created here unless it is root
#   TEST_DB_NAME [paddleocr_test]                         the suite's databases are named after it (below)
#   TEST_DB_DATADIR                                       a private server of the suite's own: a data folder
#                                                         made with mariadb-install-db, served on TEST_DB_PORT
#                                                         (socket TEST_DB_DATADIR/mysqld.sock); default: the
#                                                         machine's server (/etc/mysql, /var/lib/mysql)
#   TEST_DB_ADMIN_USER, TEST_DB_ADMIN_PASSWORD            a login that may create users, tried first when set
#   TEST_REDIS_HOST [127.0.0.1], TEST_REDIS_PORT [6379]   Redis; a local one is started when it does not answer
#
# The user is created for localhost and 127.0.0.1 and gets every privilege on these databases only (the
# names the suite creates and drops), never on any other:
#   <name>%  (<name>, <name>_deploy, <name>_*_bench)   test\_<name>%  (pytest-django's test_<name>)
#   paddleocr\_collation\_%  (tests/test_migrations_collation.py)   ocr\_deploy\_test\_%  (tests/test_checks.py)
# To create it the script logs in as MariaDB's root: through the unix socket (a standard Debian install,
# where root authenticates by unix_socket; with sudo when not run as root) or over TCP without a password.
set -euo pipefail

DB_HOST=${TEST_DB_HOST:-127.0.0.1}
DB_PORT=${TEST_DB_PORT:-3306}
DB_USER=${TEST_DB_USER:-paddleocr_test}
DB_PASSWORD=${TEST_DB_PASSWORD-}
DB_NAME=${TEST_DB_NAME:-paddleocr_test}
DATADIR=${TEST_DB_DATADIR:-}
REDIS_HOST=${TEST_REDIS_HOST:-127.0.0.1}
REDIS_PORT=${TEST_REDIS_PORT:-6379}
WAIT=${TEST_SERVICES_WAIT:-60}

say() { printf 'services: %s\n' "$*" >&2; }
fail() { printf 'services: %s\n' "$*" >&2; exit 1; }
is_local() { case "$1" in 127.0.0.1|localhost|::1) return 0 ;; *) return 1 ;; esac; }
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

wait_for() {  # wait_for WHAT COMMAND...: until COMMAND succeeds, at most WAIT seconds
    local what=$1 deadline=$((SECONDS + WAIT))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || fail "$what does not answer after ${WAIT} s"
        sleep 0.5
    done
}

# --- MariaDB: answering ------------------------------------------------------------------------------------

if [ -n "$DATADIR" ]; then
    SOCKET=$DATADIR/mysqld.sock
else
    SOCKET=$(mariadb --print-defaults 2>/dev/null | tr ' ' '\n' | sed -n 's/^--socket=//p' | tail -n1)
    SOCKET=${SOCKET:-/run/mysqld/mysqld.sock}
fi

db_alive() {  # the server answers, even if only to refuse this client (a fresh install knows no 127.0.0.1 user)
    local answer
    answer=$(mariadb-admin --protocol=tcp -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" --connect-timeout=2 ping 2>&1) \
        || grep -q -E "Access denied|is not allowed to connect" <<<"$answer"
}

start_private_server() {
    local owner=()
    mkdir -p "$DATADIR"
    # mariadbd refuses to run as root: as root the server runs as mysql (as Debian's does).
    if [ "$(id -u)" = 0 ]; then
        id mysql >/dev/null 2>&1 || fail "no mysql user to run mariadbd as (apt-get install mariadb-server)"
        chown mysql:mysql "$DATADIR"
        owner=(--user=mysql)
    fi
    if [ ! -d "$DATADIR/mysql" ]; then
        say "creating a MariaDB data folder in $DATADIR"
        mariadb-install-db --no-defaults "${owner[@]}" --datadir="$DATADIR" --skip-test-db \
            --auth-root-authentication-method=socket >"$DATADIR.install.log" 2>&1 \
            || { cat "$DATADIR.install.log" >&2; fail "mariadb-install-db failed"; }
    fi
    say "starting MariaDB on 127.0.0.1:$DB_PORT (data in $DATADIR)"
    start-stop-daemon --start --background --pidfile "$DATADIR/mariadbd.pid" --exec /usr/sbin/mariadbd -- \
        --no-defaults "${owner[@]}" --datadir="$DATADIR" --port="$DB_PORT" --bind-address=127.0.0.1 \
        --socket="$SOCKET" --pid-file="$DATADIR/mariadbd.pid" --log-error="$DATADIR/error.log" \
        --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
}

start_machine_server() {
    # The machine's own server (Debian's /etc/mysql): its data folder is made by the package's postinst;
    # made here only if that did not run (an install with no init system).
    if [ ! -d /var/lib/mysql/mysql ]; then
        say "creating MariaDB's data folder /var/lib/mysql"
        $SUDO mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    $SUDO install -d -o mysql -g mysql /run/mysqld
    say "starting MariaDB (/usr/sbin/mariadbd)"
    # --user: Debian's own configuration names no user, and mariadbd started as root refuses to run.
    $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
}

if ! db_alive >/dev/null 2>&1; then
    is_local "$DB_HOST" || fail "MariaDB at $DB_HOST:$DB_PORT does not answer (only a local one is started)"
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || fail "mariadb-server is not installed"
    if [ -n "$DATADIR" ]; then start_private_server; else start_machine_server; fi
    wait_for "MariaDB at $DB_HOST:$DB_PORT" db_alive
fi

# --- MariaDB: the suite's user -------------------------------------------------------------------------------

as_user() {  # SQL on stdin, as the suite's user over TCP
    MYSQL_PWD=$DB_PASSWORD mariadb --protocol=tcp -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -N --connect-timeout=5 "$@"
}

escape() { printf '%s' "$1" | sed 's/_/\\_/g'; }  # a literal name inside a GRANT pattern
PATTERNS=("$(escape "$DB_NAME")%" "test\\_$(escape "$DB_NAME")%" 'paddleocr\_collation\_%' 'ocr\_deploy\_test\_%')

user_ready() {
    [ "$DB_USER" = root ] && { echo 'SELECT 1' | as_user >/dev/null 2>&1; return; }
    local grants pattern
    grants=$(echo 'SHOW GRANTS FOR CURRENT_USER()' | as_user -r 2>/dev/null) || return 1
    for pattern in "${PATTERNS[@]}"; do
        grep -qF "\`$pattern\`.*" <<<"$grants" || return 1
    done
}

time_zones_loaded() {
    [ "$(echo "SELECT CONVERT_TZ('2000-01-01 00:00:00', 'UTC', 'Asia/Shanghai') IS NOT NULL" | as_user 2>/dev/null)" = 1 ]
}

ADMIN=()
find_admin() {  # the first login that may create users: ADMIN=(command ...)
    local candidate
    local -a candidates=()
    if [ -n "${TEST_DB_ADMIN_USER:-}" ]; then
        candidates+=("env MYSQL_PWD=${TEST_DB_ADMIN_PASSWORD:-} mariadb --protocol=tcp -h $DB_HOST -P $DB_PORT -u $TEST_DB_ADMIN_USER")
    fi
    if is_local "$DB_HOST" && [ -S "$SOCKET" ]; then
        candidates+=("$SUDO mariadb --protocol=socket -S $SOCKET -u root")
    fi
    candidates+=("mariadb --protocol=tcp -h $DB_HOST -P $DB_PORT -u root --skip-password")
    for candidate in "${candidates[@]}"; do
        # shellcheck disable=SC2086  # the candidates are command lines without spaces inside words
        if echo 'SELECT 1' | $candidate -N --connect-timeout=5 >/dev/null 2>&1; then
            read -r -a ADMIN <<<"$candidate"
            return 0
        fi
    done
    return 1
}

as_admin() { "${ADMIN[@]}" -N "$@"; }

if ! user_ready; then
    [ "$DB_USER" != root ] || fail "cannot log in to MariaDB at $DB_HOST:$DB_PORT as root with the given password"
    find_admin || fail "cannot create the MariaDB user $DB_USER: root logs in neither through $SOCKET nor over TCP without a password; create it yourself (GRANT ALL ON \`<pattern>\`.* for: ${PATTERNS[*]}) or set TEST_DB_ADMIN_USER/TEST_DB_ADMIN_PASSWORD"
    say "creating the MariaDB user $DB_USER@localhost/127.0.0.1 for the databases ${PATTERNS[*]} (as ${ADMIN[*]})"
    password=${DB_PASSWORD//\\/\\\\}
    password=${password//\'/\\\'}
    {
        for host in localhost 127.0.0.1; do
            echo "CREATE USER IF NOT EXISTS '$DB_USER'@'$host' IDENTIFIED BY '$password';"
            echo "ALTER USER '$DB_USER'@'$host' IDENTIFIED BY '$password';"
            for pattern in "${PATTERNS[@]}"; do
                echo "GRANT ALL PRIVILEGES ON \`$pattern\`.* TO '$DB_USER'@'$host';"
            done
        done
    } | as_admin
    user_ready || fail "the user $DB_USER was created but cannot log in over TCP to $DB_HOST:$DB_PORT"
fi

# The admin's date navigation needs MariaDB's time-zone tables (CONVERT_TZ with named zones).
if ! time_zones_loaded; then
    [ ${#ADMIN[@]} -gt 0 ] || find_admin || fail "MariaDB has no time-zone tables and no root login to load them: mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb -u root mysql"
    say "loading MariaDB's time-zone tables"
    mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | as_admin mysql
    time_zones_loaded || fail "the time-zone tables did not load"
fi

# --- Redis -------------------------------------------------------------------------------------------------

redis_alive() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

if ! redis_alive; then
    is_local "$REDIS_HOST" || fail "Redis at $REDIS_HOST:$REDIS_PORT does not answer (only a local one is started)"
    command -v redis-server >/dev/null || fail "redis-server is not installed"
    say "starting Redis on 127.0.0.1:$REDIS_PORT (nothing kept on disk)"
    redis_dir=${DATADIR:+$DATADIR.redis}
    redis_dir=${redis_dir:-${TMPDIR:-/tmp}}
    mkdir -p "$redis_dir"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
        --dir "$redis_dir" --pidfile "$redis_dir/redis-$REDIS_PORT.pid" >/dev/null
    wait_for "Redis at $REDIS_HOST:$REDIS_PORT" redis_alive
fi
