#!/usr/bin/env bash
# Builds the Docker image in both variants (ENGINES=all and the slim ENGINES=onnxruntime), runs each in the
# embedded mode, posts an image to /api/ocr/recognize and waits for the image's HEALTHCHECK to report
# healthy. Prints build time, size, recognised text and health status of each; exit 0 when both pass.
#
#   make image-check                     # or: scripts/image-check.sh [all|onnxruntime ...]
#
# Container engine: Docker when its daemon answers, else podman (`make image-check` installs podman,
# runc and debootstrap from Debian's packages when neither is usable). Base image: PYTHON_IMAGE when set;
# else python:3.11-slim-bookworm when it is present or can be pulled; else (no registry reachable) a base
# made here from Debian's packages with debootstrap: bookworm with python3 (3.11), python3-venv,
# python-is-python3, imported as localhost/paddleocr-base:bookworm (kept; REBUILD_BASE=1 makes it anew).
#
# Settings (environment): ENGINE=docker|podman, PYTHON_IMAGE, DEBIAN_MIRROR (default: this machine's apt
# source, else http://deb.debian.org/debian), IMAGE_NAME (default paddleocr-api-check), KEEP_IMAGES=0 to
# remove the images afterwards, HEALTH_TIMEOUT (seconds, default 420), REPORT (file for the summary).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(all onnxruntime)
IMAGE_NAME=${IMAGE_NAME:-paddleocr-api-check}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-420}
REPORT=${REPORT:-$ROOT/artifacts/image-check.txt}
BASE_TAG=localhost/paddleocr-base:bookworm
SUMMARY=()
CONTAINERS=()

say() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'image-check: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local name
    for name in "${CONTAINERS[@]}"; do
        "$ENGINE" rm -f -v "$name" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

# --- Container engine ----------------------------------------------------------------------------------

if [ -z "${ENGINE:-}" ]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
        ENGINE=docker
    elif command -v podman >/dev/null; then
        ENGINE=podman
    else
        fail "no container engine: the Docker client finds no daemon and podman is not installed (make image-check installs podman)"
    fi
fi
say "container engine: $ENGINE ($("$ENGINE" --version))"

# Options of `run` and `build` that this machine needs. podman's defaults can fail where the runtime may not
# raise rlimits (no CAP_SYS_RESOURCE) or where crun refuses a hybrid cgroup v1/v2 host; each set of options
# is tried on the base image with `true` and the first that starts a container is kept.
RUN_OPTS=()
BUILD_OPTS=()
choose_run_options() {
    local image=$1 runtime limits nofile nproc candidates=()
    if [ "$ENGINE" != podman ]; then
        return 0
    fi
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    [ "$nofile" = unlimited ] && nofile=1048576
    [ "$nproc" = unlimited ] && nproc=$(cat /proc/sys/kernel/pid_max)
    for runtime in "" runc; do
        [ -z "$runtime" ] || command -v "$runtime" >/dev/null || continue
        for limits in "" "--ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc" \
                      "--ulimit nofile=$nofile:$nofile --ulimit nproc=$(cat /proc/sys/kernel/pid_max)" \
                      "--ulimit nofile=$nofile:$nofile --ulimit nproc=4096:4096"; do
            candidates=(${runtime:+--runtime "$runtime"} $limits)
            if podman run --rm "${candidates[@]}" "$image" true >/dev/null 2>&1; then
                RUN_OPTS=("${candidates[@]}")
                BUILD_OPTS=("${candidates[@]}")
                say "podman options: ${RUN_OPTS[*]:-(none)}"
                return 0
            fi
        done
    done
    podman run --rm "$image" true || true
    fail "podman cannot start a container from $image on this machine (tried crun and runc, with and without rlimits)"
}

# --- Base image ----------------------------------------------------------------------------------------

debian_mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then
        echo "$DEBIAN_MIRROR"
        return
    fi
    local uri
    uri=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
          | grep -v -e security -e updates | head -n1 | sed -E 's/^URIs: *//; s/^deb (\[[^]]*\] )?//; s/ .*//')
    echo "${uri:-http://deb.debian.org/debian}"
}

make_debian_base() {
    command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install debootstrap)"
    local rootfs mirror
    rootfs=$(mktemp -d /tmp/paddleocr-base.XXXXXX)
    mirror=$(debian_mirror)
    say "making the base image from Debian's packages: debootstrap bookworm from $mirror"
    debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
        bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -n 30 "$rootfs.log" >&2; fail "debootstrap failed"; }
    # Certificate authorities this machine trusts beyond Debian's (a proxy that inspects TLS, as in front of
    # PyPI here): added to the base, so that pip in the build trusts what this machine trusts.
    python3 - "$rootfs" <<'PY'
import pathlib, re, sys
pem = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
rootfs = pathlib.Path(sys.argv[1])
debian = set(pem.findall((rootfs / "etc/ssl/certs/ca-certificates.crt").read_text()))
host = pem.findall(pathlib.Path("/etc/ssl/certs/ca-certificates.crt").read_text())
for number, cert in enumerate(c for c in host if c not in debian):
    (rootfs / f"usr/local/share/ca-certificates/host-{number}.crt").write_text(cert + "\n")
PY
    chroot "$rootfs" update-ca-certificates >/dev/null
    # What a Docker base image leaves out: package caches and lists (each build runs apt-get update).
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | "$ENGINE" import --change 'CMD ["python3"]' \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' - "$BASE_TAG" >/dev/null
    rm -rf "$rootfs" "$rootfs.log"
}

choose_base() {
    if [ -n "${PYTHON_IMAGE:-}" ]; then
        echo "$PYTHON_IMAGE"
        return
    fi
    local official=python:3.11-slim-bookworm
    if "$ENGINE" image inspect "$official" >/dev/null 2>&1 || "$ENGINE" pull "$official" >/dev/null 2>&1; then
        echo "$official"
        return
    fi
    say "$official cannot be pulled (no registry reachable)"
    if [ "${REBUILD_BASE:-0}" = 1 ] || ! "$ENGINE" image inspect "$BASE_TAG" >/dev/null 2>&1; then
        make_debian_base
    fi
    echo "$BASE_TAG"
}

# --- Checks of one variant -----------------------------------------------------------------------------

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

health_status() {
    local format='{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}'
    "$ENGINE" inspect --format "$format" "$1" 2>/dev/null || echo unknown
}

check_variant() {
    local variant=$1 base=$2 tag start built size configured name port image_file answer text status deadline
    tag="$IMAGE_NAME:$variant"
    say "building $tag (ENGINES=$variant, base $base)"
    start=$(date +%s)
    local format=()
    [ "$ENGINE" = podman ] && format=(--format docker)  # OCI images have no HEALTHCHECK
    "$ENGINE" build "${format[@]}" "${BUILD_OPTS[@]}" --build-arg "PYTHON_IMAGE=$base" \
        --build-arg "ENGINES=$variant" -t "$tag" "$ROOT" >&2
    built=$(( $(date +%s) - start ))
    size=$("$ENGINE" image inspect --format '{{.Size}}' "$tag")
    if [ "$ENGINE" = podman ]; then
        configured=$(podman image inspect --format '{{json .HealthCheck}}' "$tag")
    else
        configured=$(docker image inspect --format '{{json .Config.Healthcheck}}' "$tag")
    fi
    case "$configured" in
        *healthcheck*) ;;
        *) fail "$tag has no HEALTHCHECK ($configured)" ;;
    esac

    name="paddleocr-image-check-$variant-$$"
    port=$(free_port)
    CONTAINERS+=("$name")
    say "running $tag as $name on 127.0.0.1:$port (embedded mode)"
    # (podman without systemd complains that it cannot schedule the health check: shown only on failure.)
    local started
    started=$("$ENGINE" run -d --name "$name" "${RUN_OPTS[@]}" -p "127.0.0.1:$port:8000" "$tag" 2>&1) \
        || fail "$tag: $ENGINE run failed: $started"

    # The page to read, drawn by the image's own Pillow (its built-in font, no font package needed).
    image_file=$(mktemp /tmp/image-check.XXXXXX.png)
    "$ENGINE" exec "$name" python -c '
import sys
from PIL import Image, ImageDraw, ImageFont
image = Image.new("RGB", (720, 160), "white")
ImageDraw.Draw(image).text((30, 45), "Hello PaddleOCR 2024", fill="black", font=ImageFont.load_default(size=56))
image.save(sys.stdout.buffer, "PNG")' >"$image_file"

    deadline=$(( $(date +%s) + HEALTH_TIMEOUT ))
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/api/ocr/live" 2>/dev/null; do
        [ "$(date +%s)" -lt "$deadline" ] || { "$ENGINE" logs "$name" >&2; fail "$tag: /api/ocr/live never answered"; }
        [ "$("$ENGINE" inspect --format '{{.State.Running}}' "$name")" = true ] || {
            "$ENGINE" logs "$name" >&2; fail "$tag: the container exited"; }
        sleep 2
    done
    answer=$(curl -sS -X POST "http://127.0.0.1:$port/api/ocr/recognize" -F "file=@$image_file" -F lang=en)
    rm -f "$image_file"
    text=$(printf '%s' "$answer" | python3 -c 'import json, sys; a = json.load(sys.stdin); print(a["text"] if a.get("success") else "FAILED: " + json.dumps(a, ensure_ascii=False))')
    case "$text" in
        *Hello*PaddleOCR*2024*) ;;
        *) "$ENGINE" logs "$name" >&2; fail "$tag: /api/ocr/recognize answered: $answer" ;;
    esac

    # The image's own HEALTHCHECK. Docker runs it every interval by itself; podman without systemd runs it
    # only when asked (`podman healthcheck run` runs the image's command and records the result).
    status=$(health_status "$name")
    until [ "$status" = healthy ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { "$ENGINE" logs "$name" >&2; fail "$tag: health status '$status'"; }
        if [ "$ENGINE" = podman ]; then
            podman healthcheck run "$name" >/dev/null 2>&1 || true
        fi
        sleep 3
        status=$(health_status "$name")
    done
    "$ENGINE" rm -f -v "$name" >/dev/null 2>&1
    SUMMARY+=("$(printf '%-12s %-32s build %5d s  size %5d MB (%d bytes)  recognised "%s"  health %s' \
        "$variant" "$tag" "$built" $((size / 1000000)) "$size" "${text//$'\n'/ / }" "$status")")
    if [ "${KEEP_IMAGES:-1}" = 0 ]; then
        "$ENGINE" rmi "$tag" >/dev/null
    fi
}

BASE=$(choose_base)
choose_run_options "$BASE"
for variant in "${VARIANTS[@]}"; do
    check_variant "$variant" "$BASE"
done

mkdir -p "$(dirname "$REPORT")"
{
    echo "image-check $(date -u +%FT%TZ), $ENGINE, base $BASE ($("$ENGINE" image inspect --format '{{.Size}}' "$BASE") bytes)"
    printf '%s\n' "${SUMMARY[@]}"
} | tee "$REPORT"
